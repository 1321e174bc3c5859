// `mpitune run`'s flags (see run_options.hpp).
#include "mpitune/runtime/run_options.hpp"

#include "mpitune/core/error.hpp"
#include "mpitune/runtime/cli_options.hpp"

namespace po = boost::program_options;

namespace mpitune {

po::options_description run_options_description() {
  po::options_description desc(
      "mpitune run [--config FILE] [--set section.key=value ...]\n"
      "  Run an experiment. Without --config, runs the embedded default (ASHA over the LoRA\n"
      "  fine-tuning of the project's base model: mpi_scripts/base_model.sh makes it).\n"
      "  Start it with: mpirun -np 1+K*G mpitune run --config FILE  (K groups of G ranks)\n"
      "  Time limits: on SIGUSR1, SIGTERM or SIGINT every running trial is checkpointed and the job\n"
      "  exits with code 3; the same command then continues it (experiment.resume = auto), or\n"
      "  mpitune run --resume FILE. With mpirun send SIGUSR1 (it forwards it and waits); with srun,\n"
      "  sbatch --signal=USR1@180 (not B:, which signals only the batch shell).\n"
      "  Exit codes: 0 finished, 2 bad input, 3 interrupted (resumable), 4 aborted: a group stopped\n"
      "  answering (experiment.heartbeat_timeout_s; resumable), 1 other errors.\n\noptions");
  desc.add_options()("help,h", "this help")
      ("config,c", po::value<std::string>(), "experiment INI file (configs/*.ini are examples)")
      ("set,s", po::value<std::vector<std::string>>()->composing(), "override a key: section.key=value (repeatable)")
      ("quiet,q", "no live status table")
      ("verbose,v", "the live status also has a line per busy group; each rank handed over to mpitune-torch says so")
      ("resume", po::value<std::string>()->implicit_value(""), "continue the interrupted experiment in the output, or in FILE (--resume FILE: its own config unless --config)")
      ("no-resume", "never continue an existing output (the overwrite rule applies)")
      ("export", po::value<std::string>(), "export the best trial's final weights here at the end (experiment.export_dir; none: no export)")
      ("print-default-config", "print the embedded default config and exit");
  return desc;
}

po::variables_map parse_run_words(const std::vector<std::string>& args, const po::options_description& desc) {
  // `--resume FILE` (a separate word) is `--resume=FILE`: the option's value is optional.
  std::vector<std::string> words = args;
  for (size_t i = 0; i + 1 < words.size(); ++i)
    if (words[i] == "--resume" && !words[i + 1].empty() && words[i + 1][0] != '-') {
      words[i] = "--resume=" + words[i + 1];
      words.erase(words.begin() + static_cast<long>(i) + 1);
    }
  return parse_command_line(words, desc, nullptr, "run");
}

bool run_prints_only(const po::variables_map& vm) { return vm.count("help") || vm.count("print-default-config"); }

RunRequest run_request_from(const po::variables_map& vm) {
  RunRequest req;
  if (vm.count("config")) req.config_path = vm["config"].as<std::string>();
  if (vm.count("set")) req.overrides = vm["set"].as<std::vector<std::string>>();
  if (vm.count("export")) req.overrides.push_back("experiment.export_dir=" + vm["export"].as<std::string>());
  req.quiet = vm.count("quiet") > 0;
  req.verbose = vm.count("verbose") > 0;
  if (vm.count("resume") && vm.count("no-resume"))
    throw ConfigError("--resume", "and --no-resume were both given", "give one of them");
  if (vm.count("resume")) {
    req.resume = true;
    req.resume_file = vm["resume"].as<std::string>();
  }
  if (vm.count("no-resume")) req.resume = false;
  return req;
}

}  // namespace mpitune
