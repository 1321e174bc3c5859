// Edits of a closed result file that mpitune itself never makes: the files a hand edit with
// h5py, a damaged disk or a writer that died half-way leave. For the tests of the reader's
// checks (tests/unit/store/damaged_file_test.cpp). Test support, built beside the store's
// private HDF5 helpers (tests/CMakeLists.txt: mpitune_store_edits), never part of mpitune.
//
// Each call opens the file read-write (not SWMR), makes its change and closes it; failures are
// InfraError. Space freed by a replacement is not reclaimed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mpitune::hdf5_edit {

enum class ValueKind { Int32, Int64, Float64, String /* variable-length UTF-8 */, FixedString /* 16 bytes */ };

// Replaces root attribute `name` (creating it when absent) by `count` values of `kind`: a
// scalar when count is 0, else a 1-D array of `count` values: `number` (integers), number + 0.5
// (Float64) or "seven" (strings).
void replace_root_attribute(const std::string& path, const std::string& name, ValueKind kind, size_t count,
                            int64_t number = 7);

// Replaces dataset `name` by an int32 dataset of these dimensions (no dimension: a scalar),
// all zeros: something that is not a table.
void replace_with_array(const std::string& path, const std::string& name, const std::vector<size_t>& dims);

// Replaces dataset `name` by a 1-D table of `rows` rows with exactly these columns, every
// value 1 (numbers) or "x" (strings).
void replace_table(const std::string& path, const std::string& name,
                   const std::vector<std::pair<std::string, ValueKind>>& columns, size_t rows);

// Sets the extent of table `name` to `rows` without writing anything: rows beyond the old
// extent read as zeros, what a writer that died between extending and writing leaves.
void set_table_rows(const std::string& path, const std::string& name, size_t rows);

// Removes root attribute `name` / dataset `name` (nothing when absent): what a file written by
// an older mpitune lacks.
void remove_root_attribute(const std::string& path, const std::string& name);
void remove_dataset(const std::string& path, const std::string& name);

// Rewrites table `name` with every row kept but without the `drop` columns, and with the
// `as_float64` columns converted to float64 (how files of schema < 3 store integer
// hyperparameters): a table as an older mpitune wrote it.
void rewrite_columns(const std::string& path, const std::string& name, const std::vector<std::string>& drop,
                     const std::vector<std::string>& as_float64 = {});

// Overwrites the fixed-length string `column` of row `row` of table `name` with `text`.
void write_string_cell(const std::string& path, const std::string& name, size_t row, const std::string& column,
                       const std::string& text);

// Overwrites the integer `column` of row `row` of table `name` with `value`.
void write_int_cell(const std::string& path, const std::string& name, size_t row, const std::string& column,
                    int64_t value);

// Holds a file open read-only without SWMR, as h5dump and h5py without swmr=True do (and so
// HDF5's shared lock on it), until destroyed. Throws InfraError when HDF5 refuses to open it.
class PlainReader {
 public:
  explicit PlainReader(const std::string& path);
  ~PlainReader();
  PlainReader(const PlainReader&) = delete;
  PlainReader& operator=(const PlainReader&) = delete;

 private:
  int64_t file_;  // an hid_t
};

// Whether a plain (not SWMR) reader opens the file now; `error` gets HDF5's reason when not.
bool opens_without_swmr(const std::string& path, std::string* error = nullptr);

}  // namespace mpitune::hdf5_edit
