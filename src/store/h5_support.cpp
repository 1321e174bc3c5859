// HDF5 error checking, identifier ownership and root-attribute helpers (see h5_support.hpp).
#include "h5_support.hpp"

#include <cstring>
#include <mutex>

namespace mpitune::h5 {
namespace {

// H5Ewalk2 callback: the walk goes upward (innermost first), so the first entry is the one
// closest to the cause.
herr_t keep_innermost(unsigned n, const H5E_error2_t* err, void* out) {
  if (n == 0 && err) {
    auto* text = static_cast<std::string*>(out);
    *text = std::string(err->desc ? err->desc : "") + " (in " +
            (err->func_name ? err->func_name : "?") + ")";
  }
  return 0;
}

// "H5Dwrite(dset, ...)" -> "H5Dwrite": the argument text adds length, not meaning.
std::string call_name(const char* call) {
  const char* paren = std::strchr(call, '(');
  return paren ? std::string(call, paren) : std::string(call);
}

}  // namespace

void h5_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    // H5open is implied by the first API call; errors here cannot be reported by HDF5 itself.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

std::string innermost_error() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? "no HDF5 error message" : text;
}

void throw_failure(const char* call, const char* file, int line) {
  throw InfraError(source_place(file, line) + ": " + call_name(call) + " failed: " + innermost_error());
}

H5Handle& H5Handle::operator=(H5Handle&& o) noexcept {
  if (this != &o) {
    if (valid() && closer_) closer_(id_);
    id_ = o.id_;
    closer_ = o.closer_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

H5Handle::~H5Handle() {
  if (valid() && closer_) closer_(id_);  // errors cannot leave a destructor; close() reports them
}

void H5Handle::close() {
  if (!valid()) return;
  const hid_t id = id_;
  id_ = H5I_INVALID_HID;
  H5_CHECK(closer_(id));
}

H5Handle fixed_string_type(size_t bytes) {
  H5Handle t = own_type(H5_CHECK(H5Tcopy(H5T_C_S1)));
  H5_CHECK(H5Tset_size(t.id(), bytes));
  H5_CHECK(H5Tset_strpad(t.id(), H5T_STR_NULLTERM));
  H5_CHECK(H5Tset_cset(t.id(), H5T_CSET_UTF8));
  return t;
}

H5Handle vlen_string_type() {
  H5Handle t = own_type(H5_CHECK(H5Tcopy(H5T_C_S1)));
  H5_CHECK(H5Tset_size(t.id(), H5T_VARIABLE));
  H5_CHECK(H5Tset_cset(t.id(), H5T_CSET_UTF8));
  return t;
}

namespace {

void write_scalar_attr(hid_t loc, const char* name, hid_t file_type, hid_t mem_type, const void* value) {
  H5Handle space = own_space(H5_CHECK(H5Screate(H5S_SCALAR)));
  H5Handle attr = own_attr(H5_CHECK(H5Acreate2(loc, name, file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT)));
  H5_CHECK(H5Awrite(attr.id(), mem_type, value));
  attr.close();
}

H5Handle open_attr(hid_t loc, const char* name) {
  return own_attr(H5_CHECK(H5Aopen(loc, name, H5P_DEFAULT)));
}

}  // namespace

void write_attr_string(hid_t loc, const char* name, const std::string& value) {
  H5Handle t = vlen_string_type();
  const char* data = value.c_str();
  write_scalar_attr(loc, name, t.id(), t.id(), &data);
}

void write_attr_int32(hid_t loc, const char* name, int32_t value) {
  write_scalar_attr(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value);
}

void write_attr_uint64(hid_t loc, const char* name, uint64_t value) {
  write_scalar_attr(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

void write_attr_int64(hid_t loc, const char* name, int64_t value) {
  write_scalar_attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void write_attr_float64(hid_t loc, const char* name, double value) {
  write_scalar_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

bool has_attr(hid_t loc, const char* name) { return H5_CHECK(H5Aexists(loc, name)) > 0; }

std::string read_attr_string(hid_t loc, const char* name) {
  H5Handle attr = open_attr(loc, name);
  H5Handle file_type = own_type(H5_CHECK(H5Aget_type(attr.id())));
  if (H5_CHECK(H5Tget_class(file_type.id())) != H5T_STRING)
    throw InfraError(std::string("attribute '") + name + "' is not a string");
  if (H5_CHECK(H5Tis_variable_str(file_type.id())) > 0) {
    H5Handle t = vlen_string_type();
    char* data = nullptr;
    H5_CHECK(H5Aread(attr.id(), t.id(), &data));
    std::string out = data ? data : "";
    if (data) H5free_memory(data);
    return out;
  }
  const size_t size = H5_CHECK_NONZERO(H5Tget_size(file_type.id()));
  H5Handle t = fixed_string_type(size + 1);
  std::string buf(size + 1, '\0');
  H5_CHECK(H5Aread(attr.id(), t.id(), buf.data()));
  return std::string(buf.c_str());
}

int64_t read_attr_int(hid_t loc, const char* name) {
  H5Handle attr = open_attr(loc, name);
  int64_t v = 0;
  H5_CHECK(H5Aread(attr.id(), H5T_NATIVE_INT64, &v));
  return v;
}

uint64_t read_attr_uint64(hid_t loc, const char* name) {
  H5Handle attr = open_attr(loc, name);
  uint64_t v = 0;
  H5_CHECK(H5Aread(attr.id(), H5T_NATIVE_UINT64, &v));
  return v;
}

double read_attr_float64(hid_t loc, const char* name) {
  H5Handle attr = open_attr(loc, name);
  double v = 0;
  H5_CHECK(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v));
  return v;
}

}  // namespace mpitune::h5
