// The shared-GPU check of an NCCL group (see device_check.hpp).
#include "mpitune/comm/device_check.hpp"

#include "mpitune/core/error.hpp"

namespace mpitune {

std::optional<std::string> shared_gpu_clash(const std::vector<std::string>& keys) {
  for (size_t a = 0; a < keys.size(); ++a)
    for (size_t b = a + 1; b < keys.size(); ++b)
      if (keys[a] == keys[b]) {
        const auto bar = keys[a].find('|');
        const std::string host = bar == std::string::npos ? keys[a] : keys[a].substr(0, bar);
        const std::string gpu = bar == std::string::npos ? "?" : keys[a].substr(bar + 1);
        return "ranks " + std::to_string(a) + " and " + std::to_string(b) + " of one trial group share GPU " +
               gpu + " on host " + host;
      }
  return std::nullopt;
}

void throw_shared_gpu(const std::string& clash) {
  throw ConfigError("train.collectives",
                    clash + ", and NCCL does not allow two ranks of one communicator on one GPU",
                    "give every rank of a group its own GPU (fewer ranks per node or more GPUs), use "
                    "experiment.group_size = 1 (single-rank groups may share a GPU), or set [train] "
                    "collectives = mpi to stage the group's traffic through host memory");
}

}  // namespace mpitune
