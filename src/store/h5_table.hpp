// Private to src/store: compound row types built column by column, and one extendible
// 1-D dataset of such rows (append, rewrite in place, read all).
//
// A RowType knows each column's offset in a packed in-memory row, so records are encoded into
// a byte buffer and written with one H5Dwrite. The file type uses little-endian standard types
// and the memory type native ones; HDF5 converts between them and matches members by name, so
// a reader asks only for the columns it knows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "h5_support.hpp"

namespace mpitune::h5 {

enum class ColumnKind { Int32, Int64, Float64, String };

struct Column {
  std::string name;
  ColumnKind kind;
  size_t offset;
  size_t bytes;  // strings: width including the NUL
};

class RowType {
 public:
  // Each returns the column's index, used by Row's accessors.
  size_t add_int32(const std::string& name) { return add(name, ColumnKind::Int32, 4); }
  size_t add_int64(const std::string& name) { return add(name, ColumnKind::Int64, 8); }
  size_t add_float64(const std::string& name) { return add(name, ColumnKind::Float64, 8); }
  size_t add_string(const std::string& name, size_t bytes) { return add(name, ColumnKind::String, bytes); }

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

  int32_t int32(size_t col) const;
  int64_t int64(size_t col) const;
  double float64(size_t col) const;
  std::string string(size_t col) const;

  const char* data() const { return bytes_.data(); }

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

  hsize_t rows() const { return rows_; }
  void append(const Row& row);
  // Rewrites an existing row.
  void write_at(hsize_t index, const Row& row);
  void flush();
  void close();

 private:
  void write_rows(hsize_t first, const Row& row);

  std::string name_;
  H5Handle dataset_;
  H5Handle memory_type_;
  hsize_t rows_ = 0;
};

bool has_dataset(hid_t file, const std::string& name);

// Reads every row of dataset `name` with the members of `type` (by name). Returns the packed
// bytes, row_bytes() per row.
std::vector<char> read_rows(hid_t file, const std::string& name, const RowType& type, hsize_t* rows);

// The file's type of member `column` of dataset `name`: its class and size, or
// H5T_NO_CLASS when the dataset has no such member.
struct MemberInfo {
  H5T_class_t type_class = H5T_NO_CLASS;
  size_t bytes = 0;
};
MemberInfo member_info(hid_t file, const std::string& name, const std::string& column);

}  // namespace mpitune::h5
