// Private to src/store: compound row types built column by column, and one extendible
// 1-D dataset of such rows (append, rewrite in place, read all).
//
// A RowType knows each column's offset in a packed in-memory row, so records are encoded into
// a byte buffer and written with one H5Dwrite. The file type uses little-endian standard types
// and the memory type native ones; HDF5 converts between them and matches members by name, so
// a reader asks only for the columns it knows.
//
// Reading checks before it reads: the dataset is 1-D with compound rows; every column the
// reader asks for is there (unless optional: added by a later schema version) with the right
// type class (standard integers, IEEE floats, fixed-length strings, at most kMaxTextBytes;
// byte columns: a 1-D array of exactly the column's width of 8-bit integers);
// every member lies inside the row; and the extent claims no more rows than the file's size
// can hold (a damaged extent must not become a huge allocation). Anything else is a
// BadFileError naming the table.
//
// Appending: see Table::append for the order of extending and writing, and why. Rows wait in
// memory until the next flush (or until a megabyte of them): one H5Dwrite for many rows, since
// per-row writes (a dataspace, a type-conversion lookup and an extent change each) capped rank 0
// near 20,000 results a second.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "h5_support.hpp"

namespace mpitune::h5 {

// Bytes: a fixed number of raw bytes (an HDF5 array of uint8), for binary data that a string
// column cannot hold (a NUL would end it).
enum class ColumnKind { Int32, Int64, Float64, String, Bytes };

struct Column {
  std::string name;
  ColumnKind kind;
  size_t offset;
  size_t bytes;  // strings: width including the NUL; byte columns: their width
  bool optional = false;  // a reader accepts a table without it (it then reads as `absent`)
  // What an optional column reads as in a file without it: an int64 or float64 value (zero
  // for the other kinds).
  int64_t absent_int64 = 0;
  double absent_float64 = 0;
};

class RowType {
 public:
  // Each returns the column's index, used by Row's accessors.
  size_t add_int32(const std::string& name) { return add(name, ColumnKind::Int32, 4); }
  size_t add_int64(const std::string& name) { return add(name, ColumnKind::Int64, 8); }
  size_t add_float64(const std::string& name) { return add(name, ColumnKind::Float64, 8); }
  size_t add_string(const std::string& name, size_t bytes) { return add(name, ColumnKind::String, bytes); }
  size_t add_bytes(const std::string& name, size_t bytes) { return add(name, ColumnKind::Bytes, bytes); }
  // A column that files of an older schema version lack; it reads as zero there ...
  void set_optional(size_t col) { columns_.at(col).optional = true; }
  // ... or as `absent` (-1 for "none", NaN for "not measured").
  void set_optional_int64(size_t col, int64_t absent);
  void set_optional_float64(size_t col, double absent);

  const std::vector<Column>& columns() const { return columns_; }
  const Column& column(size_t i) const { return columns_.at(i); }
  size_t row_bytes() const { return size_; }

  // The compound type with standard little-endian members (what the file stores).
  H5Handle file_type() const { return build(true); }
  // The same members with native types at this row's offsets (what H5Dwrite/H5Dread use).
  H5Handle memory_type() const { return build(false); }

 private:
  size_t add(const std::string& name, ColumnKind kind, size_t bytes);
  H5Handle build(bool file) const;

  std::vector<Column> columns_;
  size_t size_ = 0;
};

// One row's bytes, laid out by a RowType.
class Row {
 public:
  explicit Row(const RowType& type) : type_(&type), bytes_(type.row_bytes(), 0) {}
  Row(const RowType& type, const char* data) : type_(&type), bytes_(data, data + type.row_bytes()) {}

  void set_int32(size_t col, int32_t v);
  void set_int64(size_t col, int64_t v);
  void set_float64(size_t col, double v);
  // Cut at a UTF-8 boundary to fit the column with its NUL.
  void set_string(size_t col, const std::string& v);
  // Copies `n` bytes (at most the column's width) into a byte column; the rest of it is zero.
  void set_bytes(size_t col, const uint8_t* data, size_t n);
  // The value an optional column has in files without it (RowType::set_optional_*).
  void set_absent(size_t col);

  int32_t int32(size_t col) const;
  int64_t int64(size_t col) const;
  double float64(size_t col) const;
  std::string string(size_t col) const;
  // The first `n` bytes (at most the column's width) of a byte column.
  std::vector<uint8_t> bytes(size_t col, size_t n) const;

  const char* data() const { return bytes_.data(); }
  // Every byte zero: what HDF5 returns for a row the table was extended for but that was never
  // written (the fill value). No row mpitune writes is all zero (each has a time, a status, an
  // action or a name).
  bool all_zero() const;

 private:
  char* at(size_t col, ColumnKind kind);
  const char* at(size_t col, ColumnKind kind) const;

  const RowType* type_;
  std::vector<char> bytes_;
};

// One extendible, chunked 1-D dataset of rows, open for writing.
class Table {
 public:
  // Creates `name` in `file` with an unlimited dimension and about 32 KiB chunks.
  Table(hid_t file, const std::string& name, const RowType& type);
  // Opens the existing table `name` (a resumed file) and keeps its first `keep` rows: rows
  // beyond them (never written, or a partial record) are cut off before anything is appended,
  // so that no such row ends up between old and new rows. `type` must match the file's rows
  // by name (HDF5 converts member by member).
  static Table open_existing(hid_t file, const std::string& name, const RowType& type, hsize_t keep);

  // Rows of the table (in its extent or waiting in memory), and of those the rows known to be
  // on disk (as of the last successful flush()).
  hsize_t rows() const { return rows_; }
  hsize_t durable_rows() const { return durable_rows_; }
  // Adds a row; it reaches HDF5 at the next flush() or when the rows waiting exceed a
  // megabyte (then the extent grows and they are written at once; on failure the extent goes
  // back and the rows are dropped, see .cpp).
  void append(const Row& row);
  // Rewrites an existing row (in HDF5 at the next flush, as appended rows).
  void write_at(hsize_t index, const Row& row);
  // Shrinks the table back to `rows` rows (fewer than now, at least the durable ones): undoes
  // the appends of a record spread over several rows when one of them fails.
  void truncate(hsize_t rows);
  // Writes this table's raw data, then its metadata (HDF5 stops before the metadata when the
  // raw data cannot be written); on success every row is durable.
  void flush();
  // After this table's flush failed: shrinks the extent back to the durable rows, so that no
  // later metadata flush can publish rows whose data never reached the disk. Best effort:
  // returns false when HDF5 refuses.
  bool roll_back_to_durable();
  void close();

 private:
  Table(std::string name, H5Handle dataset, H5Handle memory_type, size_t row_bytes, hsize_t rows);
  void write_rows(hsize_t first, hsize_t count, const char* data);
  void write_pending();
  void set_extent(hsize_t rows);

  std::string name_;
  H5Handle dataset_;
  H5Handle memory_type_;
  size_t row_bytes_ = 0;
  hsize_t rows_ = 0;          // written_ + the rows in pending_
  hsize_t written_ = 0;       // rows in the dataset's extent
  hsize_t durable_rows_ = 0;
  std::vector<char> pending_;  // rows appended since the last write, row_bytes_ each
  // Rows in the extent rewritten since the last write, the last value of each (a trial's row
  // at every report, /summary): each H5Dwrite costs a type-conversion lookup, so one per row
  // and flush instead of one per rewrite.
  std::map<hsize_t, std::vector<char>> rewrites_;
};

bool has_dataset(hid_t file, const std::string& name);

// Checks dataset `name` against `type` (see the header comment) and reads every row with the
// members of `type` (by name). Returns the packed bytes, row_bytes() per row; the optional
// columns the file lacks read as zero there and are listed in `absent` (when given), for the
// caller to Row::set_absent() once it has told unwritten rows (all zero) from written ones.
std::vector<char> read_rows(hid_t file, const std::string& name, const RowType& type, hsize_t* rows,
                            std::vector<size_t>* absent = nullptr);

// The file's type of member `column` of dataset `name`: its class and size, or
// H5T_NO_CLASS when the dataset has no such member (or is not a table).
struct MemberInfo {
  H5T_class_t type_class = H5T_NO_CLASS;
  size_t bytes = 0;  // arrays: the whole array's
};
MemberInfo member_info(hid_t file, const std::string& name, const std::string& column);

}  // namespace mpitune::h5
