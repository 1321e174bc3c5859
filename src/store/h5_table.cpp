// Compound row types and extendible row datasets (see h5_table.hpp).
#include "h5_table.hpp"

#include <algorithm>
#include <cstring>

#include "mpitune/store/hdf5_store.hpp"

namespace mpitune::h5 {

size_t RowType::add(const std::string& name, ColumnKind kind, size_t bytes) {
  for (const auto& c : columns_)
    MPITUNE_CHECK(c.name != name, "column '" + name + "' defined twice");
  columns_.push_back(Column{name, kind, size_, bytes});
  size_ += bytes;
  return columns_.size() - 1;
}

H5Handle RowType::build(bool file) const {
  MPITUNE_CHECK(size_ > 0, "a row type needs at least one column");
  H5Handle t = own_type(H5_CHECK(H5Tcreate(H5T_COMPOUND, size_)));
  for (const auto& c : columns_) {
    H5Handle str;
    hid_t member = H5I_INVALID_HID;
    switch (c.kind) {
      case ColumnKind::Int32: member = file ? H5T_STD_I32LE : H5T_NATIVE_INT32; break;
      case ColumnKind::Int64: member = file ? H5T_STD_I64LE : H5T_NATIVE_INT64; break;
      case ColumnKind::Float64: member = file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE; break;
      case ColumnKind::String:
        str = fixed_string_type(c.bytes);
        member = str.id();
        break;
    }
    H5_CHECK(H5Tinsert(t.id(), c.name.c_str(), c.offset, member));
  }
  return t;
}

char* Row::at(size_t col, ColumnKind kind) {
  const Column& c = type_->column(col);
  MPITUNE_CHECK(c.kind == kind, "column '" + c.name + "' accessed with the wrong type");
  return bytes_.data() + c.offset;
}

const char* Row::at(size_t col, ColumnKind kind) const { return const_cast<Row*>(this)->at(col, kind); }

void Row::set_int32(size_t col, int32_t v) { std::memcpy(at(col, ColumnKind::Int32), &v, sizeof v); }
void Row::set_int64(size_t col, int64_t v) { std::memcpy(at(col, ColumnKind::Int64), &v, sizeof v); }
void Row::set_float64(size_t col, double v) { std::memcpy(at(col, ColumnKind::Float64), &v, sizeof v); }

void Row::set_string(size_t col, const std::string& v) {
  char* p = at(col, ColumnKind::String);
  const size_t width = type_->column(col).bytes;
  const std::string cut = truncate_utf8(v, width - 1);
  std::memset(p, 0, width);
  std::memcpy(p, cut.data(), cut.size());
}

int32_t Row::int32(size_t col) const {
  int32_t v;
  std::memcpy(&v, at(col, ColumnKind::Int32), sizeof v);
  return v;
}

int64_t Row::int64(size_t col) const {
  int64_t v;
  std::memcpy(&v, at(col, ColumnKind::Int64), sizeof v);
  return v;
}

double Row::float64(size_t col) const {
  double v;
  std::memcpy(&v, at(col, ColumnKind::Float64), sizeof v);
  return v;
}

std::string Row::string(size_t col) const {
  const char* p = at(col, ColumnKind::String);
  const size_t width = type_->column(col).bytes;
  return std::string(p, strnlen(p, width));
}

Table::Table(hid_t file, const std::string& name, const RowType& type)
    : name_(name), memory_type_(type.memory_type()) {
  // About 32 KiB per chunk: small files for small experiments, few chunk lookups for long ones.
  const hsize_t chunk = std::clamp<hsize_t>(32768 / type.row_bytes(), 8, 4096);
  const hsize_t dims[1] = {0};
  const hsize_t max_dims[1] = {H5S_UNLIMITED};
  H5Handle space = own_space(H5_CHECK(H5Screate_simple(1, dims, max_dims)));
  H5Handle dcpl = own_plist(H5_CHECK(H5Pcreate(H5P_DATASET_CREATE)));
  H5_CHECK(H5Pset_chunk(dcpl.id(), 1, &chunk));
  H5Handle file_type = type.file_type();
  dataset_ = own_dataset(H5_CHECK(H5Dcreate2(file, name.c_str(), file_type.id(), space.id(),
                                             H5P_DEFAULT, dcpl.id(), H5P_DEFAULT)));
}

void Table::write_rows(hsize_t first, const Row& row) {
  const hsize_t start[1] = {first};
  const hsize_t count[1] = {1};
  H5Handle file_space = own_space(H5_CHECK(H5Dget_space(dataset_.id())));
  H5_CHECK(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr));
  H5Handle mem_space = own_space(H5_CHECK(H5Screate_simple(1, count, nullptr)));
  H5_CHECK(H5Dwrite(dataset_.id(), memory_type_.id(), mem_space.id(), file_space.id(), H5P_DEFAULT,
                    row.data()));
}

void Table::append(const Row& row) {
  const hsize_t new_size[1] = {rows_ + 1};
  H5_CHECK(H5Dset_extent(dataset_.id(), new_size));
  ++rows_;
  write_rows(rows_ - 1, row);
}

void Table::write_at(hsize_t index, const Row& row) {
  MPITUNE_CHECK(index < rows_, "row " + std::to_string(index) + " of " + name_ + " does not exist");
  write_rows(index, row);
}

void Table::flush() { H5_CHECK(H5Dflush(dataset_.id())); }

void Table::close() {
  dataset_.close();
  memory_type_.close();
}

bool has_dataset(hid_t file, const std::string& name) {
  // H5Lexists on "/x" checks the link; the object behind it must also be a dataset.
  if (H5_CHECK(H5Lexists(file, name.c_str(), H5P_DEFAULT)) <= 0) return false;
  H5Handle object(H5_CHECK(H5Oopen(file, name.c_str(), H5P_DEFAULT)), H5Oclose);
  return H5_CHECK(H5Iget_type(object.id())) == H5I_DATASET;
}

std::vector<char> read_rows(hid_t file, const std::string& name, const RowType& type, hsize_t* rows) {
  H5Handle dataset = own_dataset(H5_CHECK(H5Dopen2(file, name.c_str(), H5P_DEFAULT)));
  H5Handle space = own_space(H5_CHECK(H5Dget_space(dataset.id())));
  if (H5_CHECK(H5Sget_simple_extent_ndims(space.id())) != 1)
    throw InfraError("dataset " + name + " is not one-dimensional");
  hsize_t n = 0;
  H5_CHECK(H5Sget_simple_extent_dims(space.id(), &n, nullptr));
  std::vector<char> bytes(static_cast<size_t>(n) * type.row_bytes());
  if (n > 0) {
    H5Handle memory_type = type.memory_type();
    H5_CHECK(H5Dread(dataset.id(), memory_type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()));
  }
  *rows = n;
  return bytes;
}

MemberInfo member_info(hid_t file, const std::string& name, const std::string& column) {
  H5Handle dataset = own_dataset(H5_CHECK(H5Dopen2(file, name.c_str(), H5P_DEFAULT)));
  H5Handle type = own_type(H5_CHECK(H5Dget_type(dataset.id())));
  MemberInfo info;
  if (H5_CHECK(H5Tget_class(type.id())) != H5T_COMPOUND) return info;
  const int n = H5_CHECK(H5Tget_nmembers(type.id()));
  for (int i = 0; i < n; ++i) {
    char* member_name = H5_CHECK_NONZERO(H5Tget_member_name(type.id(), static_cast<unsigned>(i)));
    const bool match = column == member_name;
    H5free_memory(member_name);
    if (!match) continue;
    H5Handle member = own_type(H5_CHECK(H5Tget_member_type(type.id(), static_cast<unsigned>(i))));
    info.type_class = H5_CHECK(H5Tget_class(member.id()));
    info.bytes = H5_CHECK_NONZERO(H5Tget_size(member.id()));
    break;
  }
  return info;
}

}  // namespace mpitune::h5
