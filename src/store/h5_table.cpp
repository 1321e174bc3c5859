// Compound row types and extendible row datasets (see h5_table.hpp).
#include "h5_table.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "mpitune/store/hdf5_store.hpp"

namespace mpitune::h5 {

size_t RowType::add(const std::string& name, ColumnKind kind, size_t bytes) {
  for (const auto& c : columns_)
    MPITUNE_CHECK(c.name != name, "column '" + name + "' defined twice");
  columns_.push_back(Column{name, kind, size_, bytes});
  size_ += bytes;
  return columns_.size() - 1;
}

void RowType::set_optional_int64(size_t col, int64_t absent) {
  Column& c = columns_.at(col);
  MPITUNE_CHECK(c.kind == ColumnKind::Int64, "column '" + c.name + "' is not int64");
  c.optional = true;
  c.absent_int64 = absent;
}

void RowType::set_optional_float64(size_t col, double absent) {
  Column& c = columns_.at(col);
  MPITUNE_CHECK(c.kind == ColumnKind::Float64, "column '" + c.name + "' is not float64");
  c.optional = true;
  c.absent_float64 = absent;
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
      case ColumnKind::Bytes: {
        const hsize_t dims[1] = {c.bytes};
        str = own_type(H5_CHECK(H5Tarray_create2(file ? H5T_STD_U8LE : H5T_NATIVE_UINT8, 1, dims)));
        member = str.id();
        break;
      }
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

void Row::set_bytes(size_t col, const uint8_t* data, size_t n) {
  char* p = at(col, ColumnKind::Bytes);
  const size_t width = type_->column(col).bytes;
  MPITUNE_CHECK(n <= width, std::to_string(n) + " bytes do not fit column '" + type_->column(col).name + "'");
  std::memset(p, 0, width);
  if (n > 0) std::memcpy(p, data, n);
}

void Row::set_absent(size_t col) {
  const Column& c = type_->column(col);
  switch (c.kind) {
    case ColumnKind::Int64: set_int64(col, c.absent_int64); break;
    case ColumnKind::Float64: set_float64(col, c.absent_float64); break;
    case ColumnKind::Int32: set_int32(col, 0); break;
    case ColumnKind::String: set_string(col, ""); break;
    case ColumnKind::Bytes: set_bytes(col, nullptr, 0); break;
  }
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

bool Row::all_zero() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](char c) { return c == 0; });
}

std::string Row::string(size_t col) const {
  const char* p = at(col, ColumnKind::String);
  const size_t width = type_->column(col).bytes;
  return std::string(p, strnlen(p, width));
}

std::vector<uint8_t> Row::bytes(size_t col, size_t n) const {
  const char* p = at(col, ColumnKind::Bytes);
  MPITUNE_CHECK(n <= type_->column(col).bytes, "column '" + type_->column(col).name + "' is narrower than " +
                                                   std::to_string(n) + " bytes");
  return std::vector<uint8_t>(p, p + n);
}

Table::Table(hid_t file, const std::string& name, const RowType& type)
    : name_(name), memory_type_(type.memory_type()), row_bytes_(type.row_bytes()) {
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

Table::Table(std::string name, H5Handle dataset, H5Handle memory_type, size_t row_bytes, hsize_t rows)
    : name_(std::move(name)),
      dataset_(std::move(dataset)),
      memory_type_(std::move(memory_type)),
      row_bytes_(row_bytes),
      rows_(rows),
      written_(rows),
      durable_rows_(rows) {}

Table Table::open_existing(hid_t file, const std::string& name, const RowType& type, hsize_t keep) {
  H5Handle dataset = own_dataset(H5_CHECK(H5Dopen2(file, name.c_str(), H5P_DEFAULT)));
  H5Handle space = own_space(H5_CHECK(H5Dget_space(dataset.id())));
  hsize_t rows = 0;
  H5_CHECK(H5Sget_simple_extent_dims(space.id(), &rows, nullptr));
  MPITUNE_CHECK(keep <= rows, name + " has " + std::to_string(rows) + " rows, not the " + std::to_string(keep) +
                                  " to keep");
  // Shrinking discards the chunks past the new end and fills the cut part of the last one with
  // the fill value, so rows appended later never show what was there before.
  if (keep < rows) {
    const hsize_t dims[1] = {keep};
    H5_CHECK(H5Dset_extent(dataset.id(), dims));
  }
  return Table(name, std::move(dataset), type.memory_type(), type.row_bytes(), keep);
}

void Table::write_rows(hsize_t first, hsize_t count, const char* data) {
  const hsize_t start[1] = {first};
  const hsize_t counts[1] = {count};
  H5Handle file_space = own_space(H5_CHECK(H5Dget_space(dataset_.id())));
  H5_CHECK(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, counts, nullptr));
  H5Handle mem_space = own_space(H5_CHECK(H5Screate_simple(1, counts, nullptr)));
  H5_CHECK(H5Dwrite(dataset_.id(), memory_type_.id(), mem_space.id(), file_space.id(), H5P_DEFAULT, data));
}

void Table::set_extent(hsize_t rows) {
  const hsize_t dims[1] = {rows};
  H5_CHECK(H5Dset_extent(dataset_.id(), dims));
}

// HDF5 cannot write a row beyond a dataset's extent, so rows are appended by extending first.
// What reaches the disk, and in which order: H5Dset_extent changes the dataset's object
// header in the metadata cache and H5Dwrite puts the rows into the chunk cache; neither writes
// the file (unless a cache evicts: an evicted chunk is written before its metadata, the safe
// order, and our metadata is far below the metadata cache's size). The file changes at a
// flush. H5Fflush writes raw data first, then metadata, but it goes on to the metadata when
// the raw data fails (a full disk), which publishes the new extent over rows that were never
// written: the all-zero last row of issue 10 (the disk's end reads as zeros once HDF5 sets the
// file's size to its allocation, which a full disk allows). H5Dflush stops at that failure
// instead. So the store flushes table by table (Table::flush) before H5Fflush, and shrinks a
// table whose flush failed back to its durable rows (roll_back_to_durable): any later flush
// (close() runs one) then writes an extent whose rows are on disk, and a reader sees the old
// rows or complete new ones. A process killed between two flushes loses both caches (and the
// rows still waiting in memory) and leaves the file as of its last flush, which HDF5's SWMR
// flush ordering keeps consistent.
void Table::append(const Row& row) {
  pending_.insert(pending_.end(), row.data(), row.data() + row_bytes_);
  ++rows_;
  // A megabyte at most waits: a burst of rows between two flushes costs bounded memory.
  if (pending_.size() >= (size_t{1} << 20)) write_pending();
}

void Table::write_pending() {
  if (!rewrites_.empty()) {
    std::map<hsize_t, std::vector<char>> rows;
    rows.swap(rewrites_);  // a failed rewrite is lost with the others, as a failed append
    for (const auto& [index, bytes] : rows) write_rows(index, 1, bytes.data());
  }
  if (pending_.empty()) return;
  const hsize_t count = pending_.size() / row_bytes_;
  set_extent(written_ + count);
  try {
    write_rows(written_, count, pending_.data());
  } catch (...) {
    // The rows are lost with the write (as an append's row was); the extent goes back.
    pending_.clear();
    rows_ = written_;
    try {
      set_extent(written_);
    } catch (...) {
      // The write's error is the one to report; roll_back_to_durable() tries again.
    }
    throw;
  }
  written_ += count;
  pending_.clear();
}

void Table::write_at(hsize_t index, const Row& row) {
  MPITUNE_CHECK(index < rows_, "row " + std::to_string(index) + " of " + name_ + " does not exist");
  if (index >= written_) {
    std::memcpy(pending_.data() + (index - written_) * row_bytes_, row.data(), row_bytes_);
    return;
  }
  rewrites_[index].assign(row.data(), row.data() + row_bytes_);
}

void Table::truncate(hsize_t rows) {
  MPITUNE_CHECK(rows <= rows_ && rows >= durable_rows_,
                "cannot truncate " + name_ + " to " + std::to_string(rows) + " rows");
  if (rows >= written_) {
    pending_.resize((rows - written_) * row_bytes_);
  } else {
    pending_.clear();
    rewrites_.erase(rewrites_.lower_bound(rows), rewrites_.end());
    set_extent(rows);
    written_ = rows;
  }
  rows_ = rows;
}

void Table::flush() {
  write_pending();
  H5_CHECK(H5Dflush(dataset_.id()));
  durable_rows_ = rows_;
}

bool Table::roll_back_to_durable() {
  if (!dataset_.valid()) return true;
  pending_.clear();
  rewrites_.clear();
  try {
    set_extent(durable_rows_);
    rows_ = written_ = durable_rows_;
    return true;
  } catch (const InfraError&) {
    rows_ = written_;
    return false;
  }
}

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

namespace {

// Room for rows a table's extent may claim beyond what the file holds: the unwritten rows a
// crashed or disk-full writer can leave, and a live writer's rows appended since the reader
// opened the file.
constexpr uint64_t kRowSlackBytes = uint64_t{1} << 20;

// Why member type `m` cannot be read as column `c`, or "" when it can.
std::string member_problem(hid_t m, const Column& c) {
  switch (c.kind) {
    case ColumnKind::Int32:
    case ColumnKind::Int64:
      return is_standard_integer(m) ? "" : "is not a standard integer";
    case ColumnKind::Float64:
      return is_ieee_float(m) ? "" : "is not an IEEE floating-point number";
    case ColumnKind::Bytes: {
      if (H5_CHECK(H5Tget_class(m)) != H5T_ARRAY) return "is not an array of bytes";
      if (H5_CHECK(H5Tget_array_ndims(m)) != 1) return "is not a one-dimensional array";
      hsize_t dims[1] = {0};
      H5_CHECK(H5Tget_array_dims2(m, dims));
      if (dims[0] != c.bytes) return "holds " + std::to_string(dims[0]) + " bytes, not " + std::to_string(c.bytes);
      H5Handle base = own_type(H5_CHECK(H5Tget_super(m)));
      if (!is_standard_integer(base.id()) || H5_CHECK_NONZERO(H5Tget_size(base.id())) != 1)
        return "is not an array of 8-bit integers";
      return "";
    }
    case ColumnKind::String:
      if (H5_CHECK(H5Tget_class(m)) != H5T_STRING) return "is not a string";
      if (H5_CHECK(H5Tis_variable_str(m)) > 0) return "is a variable-length string, not a fixed-length one";
      if (H5_CHECK_NONZERO(H5Tget_size(m)) > kMaxTextBytes)
        return "is a string wider than " + std::to_string(kMaxTextBytes) + " bytes";
      return "";
  }
  return "";
}

// The checks of the header comment; returns the number of rows, and in `absent` the optional
// columns of `type` the table lacks.
hsize_t checked_rows(hid_t file, hid_t dataset, const std::string& name, const RowType& type,
                     std::vector<size_t>* absent) {
  const std::string table = "table " + name;
  H5Handle space = own_space(H5_CHECK(H5Dget_space(dataset)));
  if (H5_CHECK(H5Sget_simple_extent_type(space.id())) != H5S_SIMPLE ||
      H5_CHECK(H5Sget_simple_extent_ndims(space.id())) != 1)
    throw BadFileError(table + " is not one-dimensional");
  hsize_t rows = 0;
  H5_CHECK(H5Sget_simple_extent_dims(space.id(), &rows, nullptr));

  H5Handle file_type = own_type(H5_CHECK(H5Dget_type(dataset)));
  if (H5_CHECK(H5Tget_class(file_type.id())) != H5T_COMPOUND)
    throw BadFileError(table + " does not hold compound rows");
  const size_t file_row_bytes = H5_CHECK_NONZERO(H5Tget_size(file_type.id()));
  const int members = H5_CHECK(H5Tget_nmembers(file_type.id()));
  std::vector<bool> found(type.columns().size(), false);
  for (int i = 0; i < members; ++i) {
    const auto index = static_cast<unsigned>(i);
    H5Handle member = own_type(H5_CHECK(H5Tget_member_type(file_type.id(), index)));
    const size_t offset = H5Tget_member_offset(file_type.id(), index);  // cannot fail for a valid index
    const size_t bytes = H5_CHECK_NONZERO(H5Tget_size(member.id()));
    char* raw_name = H5_CHECK_NONZERO(H5Tget_member_name(file_type.id(), index));
    const std::string member_name = raw_name;
    H5free_memory(raw_name);
    if (offset > file_row_bytes || bytes > file_row_bytes - offset)
      throw BadFileError(table + ": column '" + member_name + "' lies outside its row");
    for (size_t c = 0; c < type.columns().size(); ++c) {
      if (type.column(c).name != member_name) continue;
      const std::string problem = member_problem(member.id(), type.column(c));
      if (!problem.empty()) throw BadFileError(table + ": column '" + member_name + "' " + problem);
      found[c] = true;
    }
  }
  for (size_t c = 0; c < found.size(); ++c) {
    if (found[c]) continue;
    if (!type.column(c).optional) throw BadFileError(table + " has no column '" + type.column(c).name + "'");
    absent->push_back(c);
  }

  const hsize_t file_bytes = [&] {
    hsize_t size = 0;
    H5_CHECK(H5Fget_filesize(file, &size));
    return size;
  }();
  // Divisions, not products: a damaged extent near 2^64 must not overflow into a small size.
  const uint64_t room = file_bytes + kRowSlackBytes;
  if (rows > room / file_row_bytes || rows > 2 * room / type.row_bytes())
    throw BadFileError(table + " claims " + std::to_string(rows) + " rows of " + std::to_string(file_row_bytes) +
                       " bytes, more than the " + std::to_string(file_bytes) + "-byte file holds");
  return rows;
}

}  // namespace

std::vector<char> read_rows(hid_t file, const std::string& name, const RowType& type, hsize_t* rows,
                            std::vector<size_t>* absent) {
  H5Handle dataset = own_dataset(H5_CHECK(H5Dopen2(file, name.c_str(), H5P_DEFAULT)));
  std::vector<size_t> missing;
  const hsize_t n = checked_rows(file, dataset.id(), name, type, &missing);
  std::vector<char> bytes(static_cast<size_t>(n) * type.row_bytes());
  if (n > 0) {
    H5Handle memory_type = type.memory_type();
    H5_CHECK(H5Dread(dataset.id(), memory_type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()));
  }
  *rows = n;
  if (absent) *absent = std::move(missing);
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
    // A width the reader would allocate per row: damage beyond kMaxTextBytes is refused here
    // rather than becoming a huge row.
    if ((info.type_class == H5T_STRING || info.type_class == H5T_ARRAY) && info.bytes > kMaxTextBytes)
      throw BadFileError("table " + name + ": column '" + column + "' is wider than " +
                         std::to_string(kMaxTextBytes) + " bytes");
    break;
  }
  return info;
}

}  // namespace mpitune::h5
