// HDF5 error checking, identifier ownership and root-attribute helpers (see h5_support.hpp).
#include "h5_support.hpp"

#include <cstring>
#include <initializer_list>
#include <limits>

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
  // Per thread: a thread-safe HDF5 keeps one default error stack, with its printing switch, per
  // thread, so silencing it once per process would leave other threads printing.
  thread_local bool silenced = false;
  if (silenced) return;
  // H5open is implied by the first API call; errors here cannot be reported by HDF5 itself.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  silenced = true;
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

bool is_one_of(hid_t type, std::initializer_list<hid_t> standard) {
  for (hid_t t : standard)
    if (H5_CHECK(H5Tequal(type, t)) > 0) return true;
  return false;
}

}  // namespace

bool is_standard_integer(hid_t type) {
  return is_one_of(type, {H5T_STD_I8LE, H5T_STD_I16LE, H5T_STD_I32LE, H5T_STD_I64LE, H5T_STD_U8LE, H5T_STD_U16LE,
                          H5T_STD_U32LE, H5T_STD_U64LE, H5T_STD_I8BE, H5T_STD_I16BE, H5T_STD_I32BE, H5T_STD_I64BE,
                          H5T_STD_U8BE, H5T_STD_U16BE, H5T_STD_U32BE, H5T_STD_U64BE});
}

bool is_ieee_float(hid_t type) {
  return is_one_of(type, {H5T_IEEE_F64LE, H5T_IEEE_F32LE, H5T_IEEE_F64BE, H5T_IEEE_F32BE});
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

const char* class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER: return "an integer";
    case H5T_FLOAT: return "a floating-point number";
    case H5T_STRING: return "a string";
    case H5T_COMPOUND: return "a compound";
    case H5T_ARRAY: return "an array type";
    case H5T_ENUM: return "an enum";
    case H5T_VLEN: return "a variable-length sequence";
    case H5T_OPAQUE: return "an opaque type";
    case H5T_REFERENCE: return "a reference";
    case H5T_BITFIELD: return "a bitfield";
    case H5T_TIME: return "a time";
    default: return "an unknown type";
  }
}

std::string with_article(const char* noun) {
  return std::string(std::strchr("aeiou", noun[0]) ? "an " : "a ") + noun;
}

// Opens `name` and checks that it holds exactly one value of one of the `allowed` classes, at
// most `max_bytes` wide. Returns the attribute; `file_type` receives its type.
H5Handle open_single_value(hid_t loc, const char* name, std::initializer_list<H5T_class_t> allowed,
                           size_t max_bytes, const char* wanted, H5Handle* file_type) {
  H5Handle attr = open_attr(loc, name);
  H5Handle space = own_space(H5_CHECK(H5Aget_space(attr.id())));
  const H5S_class_t space_class = H5_CHECK(H5Sget_simple_extent_type(space.id()));
  const hssize_t points = H5_CHECK(H5Sget_simple_extent_npoints(space.id()));
  const int rank = space_class == H5S_SIMPLE ? H5_CHECK(H5Sget_simple_extent_ndims(space.id())) : 0;
  if (space_class == H5S_NULL || points != 1 || rank > 1)
    throw BadFileError(std::string("root attribute '") + name + "' holds " + std::to_string(points) +
                       " values (rank " + std::to_string(rank) + ") where the schema has a single " + wanted);
  *file_type = own_type(H5_CHECK(H5Aget_type(attr.id())));
  const H5T_class_t type_class = H5_CHECK(H5Tget_class(file_type->id()));
  bool ok = false;
  for (H5T_class_t c : allowed) ok = ok || c == type_class;
  if (!ok)
    throw BadFileError(std::string("root attribute '") + name + "' is " + class_name(type_class) +
                       " where the schema has " + with_article(wanted));
  const size_t bytes = H5_CHECK_NONZERO(H5Tget_size(file_type->id()));
  if (type_class != H5T_STRING || H5_CHECK(H5Tis_variable_str(file_type->id())) <= 0)
    if (bytes > max_bytes)
      throw BadFileError(std::string("root attribute '") + name + "' is " + std::to_string(bytes) +
                         " bytes wide: too wide for " + with_article(wanted));
  // Numbers must be the standard formats HDF5 converts with its hard-coded routines, never a
  // format that damaged type bits describe.
  if (type_class == H5T_INTEGER && !is_standard_integer(file_type->id()))
    throw BadFileError(std::string("root attribute '") + name + "' is not a standard integer");
  if (type_class == H5T_FLOAT && !is_ieee_float(file_type->id()))
    throw BadFileError(std::string("root attribute '") + name + "' is not an IEEE floating-point number");
  return attr;
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
  H5Handle file_type;
  H5Handle attr = open_single_value(loc, name, {H5T_STRING}, kMaxTextBytes, "string", &file_type);
  if (H5_CHECK(H5Tis_variable_str(file_type.id())) > 0) {
    H5Handle t = vlen_string_type();
    char* data = nullptr;
    H5_CHECK(H5Aread(attr.id(), t.id(), &data));
    // One value was read (the shape was checked), so HDF5 allocated one string.
    std::string out = data ? std::string(data, strnlen(data, kMaxTextBytes)) : "";
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
  H5Handle file_type;
  H5Handle attr = open_single_value(loc, name, {H5T_INTEGER}, 8, "integer", &file_type);
  int64_t v = 0;
  H5_CHECK(H5Aread(attr.id(), H5T_NATIVE_INT64, &v));
  return v;
}

int32_t read_attr_int32(hid_t loc, const char* name) {
  const int64_t v = read_attr_int(loc, name);
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
    throw BadFileError(std::string("root attribute '") + name + "' = " + std::to_string(v) +
                       " does not fit a 32-bit integer");
  return static_cast<int32_t>(v);
}

uint64_t read_attr_uint64(hid_t loc, const char* name) {
  H5Handle file_type;
  H5Handle attr = open_single_value(loc, name, {H5T_INTEGER}, 8, "integer", &file_type);
  uint64_t v = 0;
  H5_CHECK(H5Aread(attr.id(), H5T_NATIVE_UINT64, &v));
  return v;
}

double read_attr_float64(hid_t loc, const char* name) {
  H5Handle file_type;
  H5Handle attr = open_single_value(loc, name, {H5T_FLOAT, H5T_INTEGER}, 8, "number", &file_type);
  double v = 0;
  H5_CHECK(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v));
  return v;
}

}  // namespace mpitune::h5
