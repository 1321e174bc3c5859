// Edits of closed result files for the reader's tests (see hdf5_edit.hpp).
#include "support/store/hdf5_edit.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "h5_support.hpp"

namespace mpitune::hdf5_edit {
namespace {

using h5::H5Handle;

H5Handle open_for_editing(const std::string& path) {
  h5::h5_init();
  H5Handle fapl = h5::own_plist(H5_CHECK(H5Pcreate(H5P_FILE_ACCESS)));
  H5_CHECK(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST));
  return h5::own_file(H5_CHECK(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.id())));
}

H5Handle simple_space(const std::vector<hsize_t>& dims, bool extendible) {
  if (dims.empty()) return h5::own_space(H5_CHECK(H5Screate(H5S_SCALAR)));
  std::vector<hsize_t> max_dims(dims.size(), H5S_UNLIMITED);
  return h5::own_space(H5_CHECK(
      H5Screate_simple(static_cast<int>(dims.size()), dims.data(), extendible ? max_dims.data() : nullptr)));
}

// The file type of one value of `kind`, and its bytes in memory.
H5Handle value_type(ValueKind kind, size_t* bytes) {
  switch (kind) {
    case ValueKind::Int32: *bytes = 4; return h5::own_type(H5_CHECK(H5Tcopy(H5T_STD_I32LE)));
    case ValueKind::Int64: *bytes = 8; return h5::own_type(H5_CHECK(H5Tcopy(H5T_STD_I64LE)));
    case ValueKind::Float64: *bytes = 8; return h5::own_type(H5_CHECK(H5Tcopy(H5T_IEEE_F64LE)));
    case ValueKind::String: *bytes = sizeof(char*); return h5::vlen_string_type();
    case ValueKind::FixedString: *bytes = 16; return h5::fixed_string_type(16);
  }
  throw InfraError("unknown value kind");
}

// One value of `kind` at `out`: `number`, number + 0.5, or `text` (whose bytes a variable-length
// string points to, so they must outlive the write).
void put_value(ValueKind kind, char* out, const char* text, int64_t number = 7) {
  const auto i32 = static_cast<int32_t>(number);
  const int64_t i64 = number;
  const double f64 = static_cast<double>(number) + 0.5;
  switch (kind) {
    case ValueKind::Int32: std::memcpy(out, &i32, 4); break;
    case ValueKind::Int64: std::memcpy(out, &i64, 8); break;
    case ValueKind::Float64: std::memcpy(out, &f64, 8); break;
    case ValueKind::String: std::memcpy(out, &text, sizeof text); break;
    case ValueKind::FixedString: std::strncpy(out, text, 16); break;
  }
}

void remove_if_present(hid_t file, const std::string& name) {
  if (H5_CHECK(H5Lexists(file, name.c_str(), H5P_DEFAULT)) > 0)
    H5_CHECK(H5Ldelete(file, name.c_str(), H5P_DEFAULT));
}

}  // namespace

void replace_root_attribute(const std::string& path, const std::string& name, ValueKind kind, size_t count,
                            int64_t number) {
  H5Handle file = open_for_editing(path);
  if (H5_CHECK(H5Aexists(file.id(), name.c_str())) > 0) H5_CHECK(H5Adelete(file.id(), name.c_str()));
  size_t bytes = 0;
  H5Handle type = value_type(kind, &bytes);
  H5Handle space = simple_space(count == 0 ? std::vector<hsize_t>{} : std::vector<hsize_t>{count}, false);
  std::vector<char> values(bytes * std::max<size_t>(count, 1), 0);
  for (size_t i = 0; i < std::max<size_t>(count, 1); ++i)
    put_value(kind, values.data() + i * bytes, "seven", number);
  H5Handle attr = h5::own_attr(
      H5_CHECK(H5Acreate2(file.id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT)));
  H5_CHECK(H5Awrite(attr.id(), type.id(), values.data()));
  attr.close();
  file.close();
}

void replace_with_array(const std::string& path, const std::string& name, const std::vector<size_t>& dims) {
  H5Handle file = open_for_editing(path);
  remove_if_present(file.id(), name);
  H5Handle space = simple_space(std::vector<hsize_t>(dims.begin(), dims.end()), false);
  H5Handle dataset = h5::own_dataset(H5_CHECK(
      H5Dcreate2(file.id(), name.c_str(), H5T_STD_I32LE, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
  dataset.close();
  file.close();
}

void replace_table(const std::string& path, const std::string& name,
                   const std::vector<std::pair<std::string, ValueKind>>& columns, size_t rows) {
  H5Handle file = open_for_editing(path);
  remove_if_present(file.id(), name);
  std::vector<H5Handle> member_types;
  std::vector<size_t> offsets;
  size_t row_bytes = 0;
  for (const auto& c : columns) {
    size_t bytes = 0;
    member_types.push_back(value_type(c.second, &bytes));
    offsets.push_back(row_bytes);
    row_bytes += bytes;
  }
  // The same layout serves as file and memory type: little-endian members, as on x86 and ARM.
  H5Handle row_type = h5::own_type(H5_CHECK(H5Tcreate(H5T_COMPOUND, row_bytes)));
  for (size_t i = 0; i < columns.size(); ++i)
    H5_CHECK(H5Tinsert(row_type.id(), columns[i].first.c_str(), offsets[i], member_types[i].id()));
  std::vector<char> data(row_bytes * rows, 0);
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < columns.size(); ++i)
      put_value(columns[i].second, data.data() + r * row_bytes + offsets[i], "x");
  H5Handle space = simple_space({rows}, true);
  H5Handle dcpl = h5::own_plist(H5_CHECK(H5Pcreate(H5P_DATASET_CREATE)));
  const hsize_t chunk = 16;
  H5_CHECK(H5Pset_chunk(dcpl.id(), 1, &chunk));
  H5Handle dataset = h5::own_dataset(H5_CHECK(
      H5Dcreate2(file.id(), name.c_str(), row_type.id(), space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT)));
  if (rows > 0) H5_CHECK(H5Dwrite(dataset.id(), row_type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()));
  dataset.close();
  file.close();
}

void set_table_rows(const std::string& path, const std::string& name, size_t rows) {
  H5Handle file = open_for_editing(path);
  H5Handle dataset = h5::own_dataset(H5_CHECK(H5Dopen2(file.id(), name.c_str(), H5P_DEFAULT)));
  const hsize_t dims[1] = {rows};
  H5_CHECK(H5Dset_extent(dataset.id(), dims));
  dataset.close();
  file.close();
}

void remove_root_attribute(const std::string& path, const std::string& name) {
  H5Handle file = open_for_editing(path);
  if (H5_CHECK(H5Aexists(file.id(), name.c_str())) > 0) H5_CHECK(H5Adelete(file.id(), name.c_str()));
  file.close();
}

void remove_dataset(const std::string& path, const std::string& name) {
  H5Handle file = open_for_editing(path);
  remove_if_present(file.id(), name);
  file.close();
}

void rewrite_columns(const std::string& path, const std::string& name, const std::vector<std::string>& drop,
                     const std::vector<std::string>& as_float64) {
  const auto listed = [](const std::vector<std::string>& names, const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  H5Handle file = open_for_editing(path);
  H5Handle dataset = h5::own_dataset(H5_CHECK(H5Dopen2(file.id(), name.c_str(), H5P_DEFAULT)));
  H5Handle old_type = h5::own_type(H5_CHECK(H5Dget_type(dataset.id())));
  H5Handle dcpl = h5::own_plist(H5_CHECK(H5Dget_create_plist(dataset.id())));
  H5Handle space = h5::own_space(H5_CHECK(H5Dget_space(dataset.id())));
  hsize_t rows = 0;
  H5_CHECK(H5Sget_simple_extent_dims(space.id(), &rows, nullptr));

  // The kept members, packed in their order; HDF5 converts the rows to it member by member.
  std::vector<std::pair<std::string, H5Handle>> members;
  size_t row_bytes = 0;
  const int n = H5_CHECK(H5Tget_nmembers(old_type.id()));
  for (int i = 0; i < n; ++i) {
    char* raw = H5_CHECK_NONZERO(H5Tget_member_name(old_type.id(), static_cast<unsigned>(i)));
    const std::string member = raw;
    H5free_memory(raw);
    if (listed(drop, member)) continue;
    H5Handle t = listed(as_float64, member)
                     ? h5::own_type(H5_CHECK(H5Tcopy(H5T_IEEE_F64LE)))
                     : h5::own_type(H5_CHECK(H5Tget_member_type(old_type.id(), static_cast<unsigned>(i))));
    row_bytes += H5_CHECK_NONZERO(H5Tget_size(t.id()));
    members.emplace_back(member, std::move(t));
  }
  H5Handle new_type = h5::own_type(H5_CHECK(H5Tcreate(H5T_COMPOUND, row_bytes)));
  size_t offset = 0;
  for (const auto& [member, t] : members) {
    H5_CHECK(H5Tinsert(new_type.id(), member.c_str(), offset, t.id()));
    offset += H5_CHECK_NONZERO(H5Tget_size(t.id()));
  }
  std::vector<char> data(row_bytes * std::max<hsize_t>(rows, 1), 0);
  if (rows > 0) H5_CHECK(H5Dread(dataset.id(), new_type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()));
  dataset.close();
  H5_CHECK(H5Ldelete(file.id(), name.c_str(), H5P_DEFAULT));

  H5Handle new_space = simple_space({rows}, true);
  H5Handle rewritten = h5::own_dataset(H5_CHECK(
      H5Dcreate2(file.id(), name.c_str(), new_type.id(), new_space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT)));
  if (rows > 0) H5_CHECK(H5Dwrite(rewritten.id(), new_type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()));
  rewritten.close();
  file.close();
}

void write_string_cell(const std::string& path, const std::string& name, size_t row, const std::string& column,
                       const std::string& text) {
  H5Handle file = open_for_editing(path);
  H5Handle dataset = h5::own_dataset(H5_CHECK(H5Dopen2(file.id(), name.c_str(), H5P_DEFAULT)));
  H5Handle file_type = h5::own_type(H5_CHECK(H5Dget_type(dataset.id())));
  const int index = H5_CHECK(H5Tget_member_index(file_type.id(), column.c_str()));
  H5Handle member = h5::own_type(H5_CHECK(H5Tget_member_type(file_type.id(), static_cast<unsigned>(index))));
  const size_t width = H5_CHECK_NONZERO(H5Tget_size(member.id()));
  // A compound of that one member: HDF5 writes it and keeps the row's other members.
  H5Handle cell_type = h5::own_type(H5_CHECK(H5Tcreate(H5T_COMPOUND, width)));
  H5_CHECK(H5Tinsert(cell_type.id(), column.c_str(), 0, member.id()));
  std::vector<char> cell(width, 0);
  std::memcpy(cell.data(), text.data(), std::min(width, text.size()));
  H5Handle file_space = h5::own_space(H5_CHECK(H5Dget_space(dataset.id())));
  const hsize_t start[1] = {row};
  const hsize_t count[1] = {1};
  H5_CHECK(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr));
  H5Handle mem_space = h5::own_space(H5_CHECK(H5Screate_simple(1, count, nullptr)));
  H5_CHECK(H5Dwrite(dataset.id(), cell_type.id(), mem_space.id(), file_space.id(), H5P_DEFAULT, cell.data()));
  dataset.close();
  file.close();
}

void write_int_cell(const std::string& path, const std::string& name, size_t row, const std::string& column,
                    int64_t value) {
  H5Handle file = open_for_editing(path);
  H5Handle dataset = h5::own_dataset(H5_CHECK(H5Dopen2(file.id(), name.c_str(), H5P_DEFAULT)));
  // A compound of that one member as int64: HDF5 converts it to the column's integer type.
  H5Handle cell_type = h5::own_type(H5_CHECK(H5Tcreate(H5T_COMPOUND, sizeof value)));
  H5_CHECK(H5Tinsert(cell_type.id(), column.c_str(), 0, H5T_NATIVE_INT64));
  H5Handle file_space = h5::own_space(H5_CHECK(H5Dget_space(dataset.id())));
  const hsize_t start[1] = {row};
  const hsize_t count[1] = {1};
  H5_CHECK(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr));
  H5Handle mem_space = h5::own_space(H5_CHECK(H5Screate_simple(1, count, nullptr)));
  H5_CHECK(H5Dwrite(dataset.id(), cell_type.id(), mem_space.id(), file_space.id(), H5P_DEFAULT, &value));
  dataset.close();
  file.close();
}

PlainReader::PlainReader(const std::string& path) {
  h5::h5_init();
  file_ = H5_CHECK(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
}

PlainReader::~PlainReader() { H5Fclose(file_); }

bool opens_without_swmr(const std::string& path, std::string* error) {
  h5::h5_init();
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) {
    const std::string why = h5::innermost_error();
    if (error) *error = why;
    return false;
  }
  H5_CHECK(H5Fclose(id));
  return true;
}

}  // namespace mpitune::hdf5_edit
