#include "mpitune/runtime/cli.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "mpitune/comm/mpi_session.hpp"
#include "mpitune/comm/topology.hpp"
#include "mpitune/coord/factories.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/runtime/report_command.hpp"
#include "mpitune/runtime/status_command.hpp"
#include "mpitune/runtime/simulate_command.hpp"
#include "mpitune/runtime/cli_options.hpp"
#include "mpitune/runtime/config_options.hpp"
#include "mpitune/runtime/model_commands.hpp"
#include "mpitune/runtime/run.hpp"
#include "mpitune/runtime/run_options.hpp"
#include "mpitune/runtime/tokenize_command.hpp"
#include "mpitune/runtime/train_tokenizer_command.hpp"
#include "mpitune/runtime/trainable_factory.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "mpitune/train/model_layout.hpp"
#include "mpitune/train/model_source.hpp"

namespace po = boost::program_options;

namespace mpitune {
namespace {

constexpr const char* kUsage =
    "usage: mpitune <command> [options]\n"
    "\n"
    "commands:\n"
    "  run       run an experiment (under mpirun/srun: rank 0 coordinates, the others train)\n"
    "  report    print the cost table and best configuration of result files\n"
    "  status    the live view of a running or finished experiment (--watch S to follow it)\n"
    "  simulate  a config's experiment on N simulated groups, in one process (utilisation, overhead)\n"
    "  validate  check a config without running it\n"
    "  eval      the loss of a Hugging Face model (or LoRA adapter) on a corpus\n"
    "  export    a kept trial's weights as a Hugging Face model or PEFT adapter folder\n"
    "  tokenize  print the token ids of a text (--tokenizer DIR|bytes --text S | --file F [--json])\n"
    "  train-tokenizer  train a byte-level BPE tokenizer on a corpus (tokenizer.json)\n"
    "\n"
    "  mpitune <command> --help   options of a command\n"
    "  mpitune --version\n";

std::string joined_command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

int run_command(int argc, char** argv, const std::vector<std::string>& args) {
  // MPI first: every rank parses the same arguments, and only rank 0 may print.
  MpiSession mpi(&argc, &argv);
  try {
    const po::options_description desc = run_options_description();
    const po::variables_map vm = parse_run_words(args, desc);
    if (run_prints_only(vm)) {
      if (mpi.rank() == 0) {
        if (vm.count("help")) std::cout << desc << "\n";
        else std::cout << default_config_text();
      }
      return 0;
    }
    RunRequest req = run_request_from(vm);
    req.command_line = joined_command_line(argc, argv);
    return run_experiment(req);
  } catch (const ConfigError& e) {
    if (mpi.rank() == 0) std::fprintf(stderr, "mpitune: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    // After the start, ranks may be blocked in communication: end the whole job.
    std::fprintf(stderr, "mpitune: rank %d: error: %s\n", mpi.rank(), e.what());
    std::fflush(stderr);
    MpiSession::abort_job(1);
  }
}

// 950, 3.6K, 135.0M
std::string human_count(int64_t n) {
  char buf[32];
  if (n < 1000) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  else if (n < 1000000) std::snprintf(buf, sizeof buf, "%.1fK", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  return buf;
}

int validate_command(const std::vector<std::string>& args) {
  po::options_description desc(
      "mpitune validate --config FILE [--set section.key=value ...] [--np N]\n"
      "  Check a config (and, with --np, the world size) without running anything.\n\noptions");
  desc.add_options()("help,h", "this help")
      ("config,c", po::value<std::string>(), "experiment INI file")
      ("set,s", po::value<std::vector<std::string>>()->composing(), "override a key: section.key=value")
      ("np", po::value<int>(), "the number of MPI ranks you plan to run with");
  const po::variables_map vm = parse_command_line(args, desc, nullptr, "validate");
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  IniFile ini = config_from_options(vm);
  const ExperimentConfig cfg = parse_config(ini);
  validate_trainable_config(cfg);
  make_scheduler(cfg);
  make_searcher(cfg);
  check_result_columns(cfg.space);
  // What `run` checks before anything starts, with the config's overwrite rule.
  check_output_path(cfg.output_path(), cfg.experiment.overwrite);
  if (vm.count("np")) check_world_size(vm["np"].as<int>(), cfg.experiment.group_size);
  std::printf("config ok: %s, %zu hyperparameters, group_size %d, output %s\n", method_name(cfg).c_str(),
              cfg.space.size(), cfg.experiment.group_size, cfg.output_path().c_str());
  if (cfg.experiment.trainable == "gpt") {
    const ModelSource source = ModelSource::open(cfg);
    const ModelSpec spec = source.spec(cfg);
    const ParameterCounts counts = count_parameters(model_layout(spec));
    char trained[96];
    if (cfg.space.find("lora.rank"))
      std::snprintf(trained, sizeof trained, "LoRA adapters of each trial's lora.rank trained");
    else
      std::snprintf(trained, sizeof trained, "%s trained%s", human_count(counts.trainable).c_str(),
                    spec.lora.rank > 0 ? (" (LoRA rank " + std::to_string(spec.lora.rank) + ")").c_str() : "");
    std::printf("model: %s %s, %s parameters, %s; tokenizer: %s\n", cfg.model.init.c_str(),
                source.hf ? source.hf->model_type.c_str() : arch_family_name(spec.family), human_count(counts.total).c_str(),
                trained, source.tokenizer->description().c_str());
  }
  return 0;
}

}  // namespace

int cli_main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("mpitune %s\n", MPITUNE_VERSION);
    return 0;
  }
  if (cmd == "run") return run_command(argc, argv, args);
  if (cmd == "tokenize") return tokenize_command(args);
  if (cmd == "train-tokenizer") return train_tokenizer_command(args);
  try {
    if (cmd == "report") return report_command(args);
    if (cmd == "status") return status_command(args);
    if (cmd == "simulate") return simulate_command(args, joined_command_line(argc, argv));
    if (cmd == "validate") return validate_command(args);
    if (cmd == "eval") return eval_command(args);
    if (cmd == "export") return export_command(args);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "mpitune: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpitune: error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "mpitune: error: unknown command '%s'; the commands are run, report, status, simulate, validate, eval, export, tokenize, train-tokenizer (see mpitune --help)\n",
               cmd.c_str());
  return 2;
}

}  // namespace mpitune
