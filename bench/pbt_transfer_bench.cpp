// PBT exploit cost against model size: the whole training state of a GPT trial moved from one
// group to another rank to rank (StateTransfer: save_state -> MPI -> load_state), beside the
// same state saved and loaded through checkpoint files (what Ray Tune and Syne Tune do through
// shared storage). Run under mpirun with 1 + 2 x G ranks (two groups of G):
//
//   mpirun -np 3 build/pbt_transfer_bench [--reps 3] [--dir /tmp] [--model HF_FOLDER [--lora-rank 16]]
//
// Prints one row per model: parameters, state bytes (both groups' ranks together), the median
// seconds of each path over the repetitions, bytes per second, and the ratio. Without --model,
// scratch GPTs of growing width; with it, that pretrained model fully fine-tuned and with LoRA
// on its attention (the state then holds only the adapters and their AdamW moments).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mpitune/comm/mpi_collectives.hpp"
#include "mpitune/comm/state_transfer.hpp"
#include "mpitune/comm/topology.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt_model.hpp"
#include "mpitune/train/model_layout.hpp"
#include "mpitune/train/gpt_trainable.hpp"

using namespace mpitune;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Wall time of `fn` across the whole job: barrier, run, barrier (the slowest rank counts).
template <class F>
double timed(F&& fn) {
  MPI_Barrier(MPI_COMM_WORLD);
  const double t0 = now_s();
  fn();
  MPI_Barrier(MPI_COMM_WORLD);
  return now_s() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int reps = 3;
  std::string base = "/tmp", model;
  int lora_rank = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
    if (a == "--dir") base = argv[i + 1];
    if (a == "--model") model = argv[i + 1];
    if (a == "--lora-rank") lora_rank = std::atoi(argv[i + 1]);
  }
  int world = 0, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int G = (world - 1) / 2;
  if (world != 1 + 2 * G || G < 1) {
    if (rank == 0) std::fprintf(stderr, "pbt_transfer_bench: run with 1 + 2 x G ranks (e.g. mpirun -np 3)\n");
    MPI_Finalize();
    return 2;
  }
  GroupComms comms(MPI_COMM_WORLD, G);
  const Topology& topo = comms.topology();
  set_compute_threads(1);
  const std::string dir = base + "/mpitune-pbt-bench";
  const std::string corpus = dir + "/corpus.txt";
  if (rank == 0) {
    std::filesystem::create_directories(dir);
    std::ofstream f(corpus);
    for (int i = 0; i < 200000; ++i) f << char('a' + (i * 7919) % 26) << (i % 61 == 0 ? "\n" : "");
  }
  MPI_Barrier(MPI_COMM_WORLD);

  std::shared_ptr<Collectives> group;
  if (!topo.is_coordinator()) group = make_mpi_collectives(comms.group());
  StateTransfer transfer(comms.transfer(), topo);
  // The models: (label, INI text of [model] and [lora]).
  std::vector<std::pair<std::string, std::string>> models;
  if (model.empty()) {
    for (int d : {64, 128, 256, 512})
      models.emplace_back(std::to_string(d) + " x 4",
                          "[model]\nn_layer = 4\nn_head = 4\nd_model = " + std::to_string(d) + "\nseq_len = 32\n");
  } else {
    const std::string m = "[model]\ninit = pretrained\npath = " + model + "\nseq_len = 32\n";
    models.emplace_back("full fine-tuning", m);
    models.emplace_back("LoRA r" + std::to_string(lora_rank) + " attention",
                        m + "[lora]\nrank = " + std::to_string(lora_rank) + "\ntargets = attention\n");
  }
  if (rank == 0)
    std::printf("| model | parameters (trainable) | state bytes | rank-to-rank s | GB/s | files s | GB/s | files / direct |\n"
                "|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& [label, model_ini] : models) {
    IniFile ini = IniFile::parse("[experiment]\ngroup_size = " + std::to_string(G) +
                                 "\n[space]\nlr = loguniform(1e-4, 1e-2)\n" + model_ini +
                                 "[data]\neval_batches = 1\ndocument_separator = line\ntokenizer = bytes\n"
                                 "[train]\ndevice = cpu\nbatch_size = " + std::to_string(2 * G) + "\n");
    ini.set("data", "corpus", corpus);
    ini.set("data", "cache_dir", dir + "/tokens");
    const ExperimentConfig cfg = parse_config(ini);
    if (rank == 0) validate_gpt_config(cfg);  // tokenizes the corpus once
    MPI_Barrier(MPI_COMM_WORLD);
    std::unique_ptr<Trainable> t;
    ParameterCounts params;
    if (!topo.is_coordinator()) {
      t = make_gpt_trainable(cfg, group);
      t->start(topo.group, HParams{}, 7 + topo.group, 100);
      t->train_step();  // Adam moments exist
      params = count_parameters(gpt_model_of(*t)->layout());
    }
    const bool source = topo.group == 0, target = topo.group == 1;
    int64_t bytes = 0;
    std::vector<double> direct, files;
    for (int r = 0; r < reps; ++r) {
      direct.push_back(timed([&] {
        if (source) {
          const auto state = t->save_state();
          bytes = static_cast<int64_t>(state.size());
          transfer.send(1, 1, StateTransfer::Payload{true, t->step(), state});
        } else if (target) {
          const auto p = transfer.recv(0, 1);
          t->load_state(p.bytes, 1, HParams{});
        }
      }));
      const std::string ckpt = dir + "/ckpt-" + std::to_string(r);
      files.push_back(timed([&] {
        if (source) t->save_checkpoint(ckpt);
        MPI_Barrier(MPI_COMM_WORLD);  // the files must be complete before anyone reads them
        if (target) t->load_checkpoint(ckpt, 1, HParams{});
      }));
      if (rank == 0) std::filesystem::remove_all(ckpt);
    }
    int64_t total = 0, counts[2] = {params.total, params.trainable};
    MPI_Reduce(&bytes, &total, 1, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) {
      const double ds = median(direct), fs = median(files);
      std::printf("| %s | %lld (%lld) | %lld | %.4f | %.2f | %.4f | %.2f | %.1f |\n", label.c_str(),
                  (long long)counts[0], (long long)counts[1], (long long)total, ds, total / ds / 1e9, fs,
                  total / fs / 1e9, fs / ds);
      std::fflush(stdout);
    }
  }
  if (rank == 0) std::filesystem::remove_all(dir);
  MPI_Finalize();
  return 0;
}
