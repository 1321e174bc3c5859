// The tables of result files as CSV (`mpitune report FILE... --format csv --table NAME`), so
// that pandas, R or a spreadsheet read them with the types the file has, without h5py.
//
// Each table has the columns of its HDF5 dataset, in the file's order and under the file's
// names (include/mpitune/store/hdf5_store.hpp), so code written against h5py keeps working:
//   - integer columns are written as integers (pandas: int64), float columns always with a
//     decimal point or an exponent (pandas: float64, also when every value happens to be whole),
//     shortest text that reads back as the same double (std::to_chars), NaN as an empty field,
//     infinities as inf / -inf;
//   - text is always quoted (RFC 4180: "..." with "" for a quote inside), so an empty string
//     ("") is told from a missing number (nothing);
//   - hyperparameters are one typed column per hyperparameter: /trials under their names,
//     /pbt_transfers as old.<name> and new.<name> (the file's columns). The text copies of
//     /pbt_transfers (old_hparams, new_hparams) are left out: the typed columns say it all.
// One header line (names bare, quoted only where a name needs it), then one row per record;
// lines end with "\n" (every CSV reader takes it; RFC 4180's CRLF is not needed). With
// several files every row starts with a `file` column (ExperimentData::path), and the
// hyperparameter columns are the union of the files' spaces (empty where a file has none).
//
// Pure: works on ExperimentData (read by the store, or built by hand in tests).
#pragma once

#include <string>
#include <vector>

#include "mpitune/store/result_store.hpp"

namespace mpitune {

enum class ResultTable { Trials, Metrics, Decisions, PbtTransfers, Final, Groups, Segments };

// "trials", "metrics", "decisions", "pbt_transfers", "final", "groups", "segments" (the order
// of the enum).
const std::vector<std::string>& csv_table_names();
const char* csv_table_name(ResultTable t);
// Throws ConfigError(option, ...) naming every table when `name` is none of them.
ResultTable parse_csv_table(const std::string& name, const std::string& option = "--table");

// The table of every file, rows in each file's order, files in the order given.
std::string format_table_csv(const std::vector<const ExperimentData*>& files, ResultTable table);

// One CSV field (exposed for the tests): a double that reads back exactly, with a '.' or an
// exponent ("0.1", "2.0", "1e-05", "inf"; NaN: ""); a quoted, escaped text.
std::string csv_float(double x);
std::string csv_text(const std::string& s);

}  // namespace mpitune
