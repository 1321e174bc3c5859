// Private to src/store: the HDF5 C API made safe to use from C++.
//
//  - H5_CHECK(call) throws InfraError naming the call, the source place and the innermost HDF5
//    error message when the call returns a negative value; it yields the call's result.
//  - H5Handle owns one hid_t and closes it with the right H5?close at scope end.
//  - Attribute helpers for the scalar root attributes of a result file. The readers check an
//    attribute's shape (one value), type class and size before reading it, so an attribute
//    that a damaged disk or a hand edit turned into an array or a string cannot overrun the
//    buffer it is read into; they throw BadFileError, which the reader reports as a ConfigError
//    naming the file.
// HDF5's automatic error-stack printing is switched off by h5_init(), which every entry point
// of the store calls first: errors travel as exceptions with their message, not as stderr noise.
// The setting belongs to the calling thread when HDF5 is built thread-safe (Debian's is), so
// h5_init() switches it off once per thread.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "mpitune/core/error.hpp"

namespace mpitune::h5 {

// Turns off HDF5's automatic error printing for the calling thread (cheap after the first call).
void h5_init();

// The file's content is not what the schema says (a shape, a type, a size, a missing column).
// Thrown by the readers below; read_hdf5_experiment turns it into ConfigError(path, what()).
class BadFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The longest string attribute or string column a reader accepts; longer ones are damage.
constexpr size_t kMaxTextBytes = size_t{16} << 20;

// "H5Dwrite: <innermost HDF5 message> (in H5D__write_...)" from the current error stack.
std::string innermost_error();

[[noreturn]] void throw_failure(const char* call, const char* file, int line);

// HDF5 signals failure with a negative return (herr_t, hid_t, htri_t, ssize_t, int, enums).
template <class T>
T check(T result, const char* call, const char* file, int line) {
  if (static_cast<long long>(result) < 0) throw_failure(call, file, line);
  return result;
}

// For the few calls that signal failure with a null pointer or zero size.
template <class T>
T check_nonzero(T result, const char* call, const char* file, int line) {
  if (!result) throw_failure(call, file, line);
  return result;
}

}  // namespace mpitune::h5

#define H5_CHECK(call) ::mpitune::h5::check((call), #call, __FILE__, __LINE__)
#define H5_CHECK_NONZERO(call) ::mpitune::h5::check_nonzero((call), #call, __FILE__, __LINE__)

namespace mpitune::h5 {

// Owns one HDF5 identifier. Move-only; close() reports errors, the destructor swallows them.
class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Handle() = default;
  H5Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  H5Handle(H5Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
  H5Handle& operator=(H5Handle&& o) noexcept;
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle();

  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now; throws InfraError when HDF5 fails to close (e.g. a flush on close fails).
  void close();

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// Each wraps a fresh identifier that the caller already checked with H5_CHECK.
inline H5Handle own_file(hid_t id) { return H5Handle(id, H5Fclose); }
inline H5Handle own_dataset(hid_t id) { return H5Handle(id, H5Dclose); }
inline H5Handle own_type(hid_t id) { return H5Handle(id, H5Tclose); }
inline H5Handle own_space(hid_t id) { return H5Handle(id, H5Sclose); }
inline H5Handle own_plist(hid_t id) { return H5Handle(id, H5Pclose); }
inline H5Handle own_attr(hid_t id) { return H5Handle(id, H5Aclose); }

// A fixed-length, NUL-terminated UTF-8 string type of `bytes` bytes (NUL included).
H5Handle fixed_string_type(size_t bytes);
// A variable-length UTF-8 string type (root attributes).
H5Handle vlen_string_type();

// Scalar attributes on `loc` (the file's root group).
void write_attr_string(hid_t loc, const char* name, const std::string& value);
void write_attr_int32(hid_t loc, const char* name, int32_t value);
void write_attr_uint64(hid_t loc, const char* name, uint64_t value);
void write_attr_int64(hid_t loc, const char* name, int64_t value);
void write_attr_float64(hid_t loc, const char* name, double value);

// The number formats a result file uses (and their other byte order and narrower widths):
// HDF5 converts these with hard-coded routines, never a format that damaged type bits describe.
bool is_standard_integer(hid_t type);
bool is_ieee_float(hid_t type);

bool has_attr(hid_t loc, const char* name);
// Each reader first checks that the attribute holds one value (a scalar dataspace, or a 1-D
// one of one element) of the right type class, and throws BadFileError otherwise.
// A string attribute, stored variable- or fixed-length (at most kMaxTextBytes).
std::string read_attr_string(hid_t loc, const char* name);
// An integer attribute of at most 8 bytes, signed or not, converted to int64 (HDF5 clamps a
// uint64 above INT64_MAX); read_attr_int32 also checks that the value fits an int32.
int64_t read_attr_int(hid_t loc, const char* name);
int32_t read_attr_int32(hid_t loc, const char* name);
uint64_t read_attr_uint64(hid_t loc, const char* name);
// A floating-point (or integer) attribute of at most 8 bytes.
double read_attr_float64(hid_t loc, const char* name);

}  // namespace mpitune::h5
