// Private to src/store: the reader's entry point for the resumed writer, which must know how
// many rows of each table the reader kept (the rest, skipped at a table's end, are cut off
// before new rows are appended) and how wide the file's /events data column is.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <map>
#include <string>

#include "mpitune/store/result_store.hpp"

namespace mpitune::h5 {

struct FileLayout {
  // Per table ("/trials", ...): the rows the records read come from; for every table but
  // /events one row per record.
  std::map<std::string, hsize_t> kept_rows;
  size_t event_data_bytes = 0;  // width of /events' data column (0: the file has no /events)
};

// read_hdf5_experiment(path), filling `layout` (when not null) as it reads.
ExperimentData read_experiment_layout(const std::string& path, FileLayout* layout);

}  // namespace mpitune::h5
