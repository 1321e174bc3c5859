#include "mpitune/runtime/run.hpp"

#include <mpi.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <map>
#include <optional>
#include <set>

#include "mpitune/comm/channel.hpp"
#include "mpitune/comm/group_control.hpp"
#include "mpitune/comm/launch_check.hpp"
#include "mpitune/comm/mpi_check.hpp"
#include "mpitune/comm/mpi_session.hpp"
#include "mpitune/comm/state_transfer.hpp"
#include "mpitune/comm/topology.hpp"
#include "mpitune/coord/factories.hpp"
#include "mpitune/core/fault_injection.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/report/report.hpp"
#include "mpitune/runtime/coordinator.hpp"
#include "mpitune/runtime/model_commands.hpp"
#include "mpitune/runtime/startup_watch.hpp"
#include "mpitune/runtime/trainable_factory.hpp"
#include "mpitune/runtime/worker.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "mpitune/train/model_layout.hpp"
#include "mpitune/train/model_source.hpp"

namespace mpitune {
namespace {

// Keys that may change when an experiment is resumed (its identity is everything else).
bool may_change_on_resume(const std::string& section, const std::string& key) {
  if (section == "faults" || section == "simulate") return true;  // [simulate]: only `mpitune simulate` reads it
  static const char* keys[] = {"resume", "overwrite", "status_interval_s", "heartbeat_timeout_s", "time_budget_s",
                               "checkpoint_interval_s", "max_failures_per_trial", "export_dir", "output",
                               "groups_span_nodes"};
  if (section != "experiment") return false;
  for (const char* k : keys)
    if (key == k) return true;
  return false;
}

// The first key whose value differs between two configs ("" when none does), ignoring the keys
// a resume may change.
std::string config_difference(const IniFile& a, const IniFile& b) {
  auto flat = [](const IniFile& f) {
    std::map<std::string, std::string> out;
    for (const auto& s : f.sections())
      for (const auto& e : s.entries)
        if (!may_change_on_resume(s.name, e.key)) out[s.name + "." + e.key] = e.value;
    return out;
  };
  const auto fa = flat(a), fb = flat(b);
  for (const auto& [k, v] : fa) {
    auto it = fb.find(k);
    if (it == fb.end()) return k + " (" + v + " in the file, unset now)";
    if (it->second != v) return k + " (" + v + " in the file, " + it->second + " now)";
  }
  for (const auto& [k, v] : fb)
    if (!fa.count(k)) return k + " (unset in the file, " + v + " now)";
  return "";
}

// Whether this run continues the experiment already in the output (experiment.resume, or
// --resume / --no-resume); ConfigError when it must and cannot.
// `known`: the output's contents when the caller has read them already (`--resume FILE`).
bool decide_resume(const RunRequest& req, const ExperimentConfig& cfg, const IniFile& ini,
                   const ExperimentData* known) {
  const std::string mode = req.resume ? (*req.resume ? "true" : "false") : cfg.experiment.resume;
  const std::string path = cfg.output_path();
  const char* field = req.resume ? "--resume" : "experiment.resume";
  if (mode == "false") return false;
  if (!file_exists(path)) {
    if (mode == "true") throw ConfigError(field, "'" + path + "' does not exist: there is nothing to resume",
                                          "drop --resume (or set resume = auto) to start the experiment");
    return false;
  }
  auto refuse = [&](const std::string& why, const std::string& fix) -> bool {
    if (mode == "true") throw ConfigError(field, "cannot resume '" + path + "': " + why, fix);
    return false;  // auto: the overwrite rule decides
  };
  ExperimentData read;
  if (!known) {
    try {
      read = read_hdf5_experiment(path);
    } catch (const std::exception& e) {
      return refuse(e.what(), "start a new experiment with another output, or experiment.overwrite = true");
    }
  }
  const ExperimentData& old = known ? *known : read;
  const std::string differs = config_difference(IniFile::parse(old.info.config_text, path), ini);
  if (!differs.empty())
    return refuse("it holds an experiment with another config: " + differs,
                  "resume with the config it was started with, or choose another experiment.output");
  if (old.summary.status == "finished")
    return refuse("it has finished", "run it again with --no-resume and experiment.overwrite = true");
  if (old.events.empty())
    return refuse("it has no /events (written by schema " + std::to_string(old.info.schema_version) +
                      " or before the first event)",
                  "start it again with experiment.overwrite = true");
  return true;
}

struct PreparedConfig {
  std::string text;
  bool resume = false;
};

// Rank 0: everything that can be checked before any work starts, and the lock on the output
// (held until the run ends: two jobs never write one file). Returns the final config text.
PreparedConfig prepare_config(const RunRequest& req, int world_size, OutputLock& output_lock) {
  // `--resume FILE`: the file is read once, for its config (when there is no --config) and for
  // the decision below.
  std::optional<ExperimentData> resume_file;
  if (!req.resume_file.empty()) {
    try {
      resume_file = read_hdf5_experiment(req.resume_file);
    } catch (const std::exception& e) {
      throw ConfigError("--resume", e.what(), "give the result file of an interrupted experiment");
    }
  }
  IniFile ini = IniFile::parse(default_config_text(), "<default config>");
  if (!req.config_path.empty()) ini = IniFile::load(req.config_path);
  else if (resume_file) ini = IniFile::parse(resume_file->info.config_text, req.resume_file);
  if (!req.resume_file.empty()) ini.apply_override("experiment.output=" + req.resume_file);
  for (const auto& o : req.overrides) ini.apply_override(o);
  const ExperimentConfig cfg = parse_config(ini);
  check_world_size(world_size, cfg.experiment.group_size);
  // Before the corpus is tokenized: a bad or busy output fails at once. The lock first: a file
  // another job is writing is neither read nor replaced.
  PreparedConfig out;
  if (file_exists(cfg.output_path())) output_lock.acquire(cfg.output_path());
  out.resume = decide_resume(req, cfg, ini, resume_file && cfg.output_path() == req.resume_file ? &*resume_file : nullptr);
  if (!out.resume) check_output_path(cfg.output_path(), cfg.experiment.overwrite);
  if (!output_lock.held()) output_lock.acquire(cfg.output_path());
  if (!output_lock.stale_holder().empty() && !req.quiet)
    std::fprintf(stderr, "mpitune: took over the lock of %s left by %s\n", cfg.output_path().c_str(),
                 output_lock.stale_holder().c_str());
  validate_trainable_config(cfg, /*progress=*/!req.quiet);
  make_scheduler(cfg);
  make_searcher(cfg);
  check_result_columns(cfg.space);
  if (out.resume && !req.quiet)
    std::printf("mpitune: resuming the experiment in %s (experiment.resume = %s)\n", cfg.output_path().c_str(),
                req.resume ? "true" : cfg.experiment.resume.c_str());
  else if (cfg.experiment.overwrite && file_exists(cfg.output_path()) && !req.quiet)
    std::printf("mpitune: replacing %s (experiment.overwrite = true)\n", cfg.output_path().c_str());
  out.text = ini.to_text();
  return out;
}

void broadcast_string(std::string& s, int root) {
  uint64_t n = s.size();
  MPI_CHECK(MPI_Bcast(&n, 1, MPI_UINT64_T, root, MPI_COMM_WORLD));
  s.resize(n);
  MPI_CHECK(MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, root, MPI_COMM_WORLD));
}

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// CPU seconds this process has used: rank 0 waits by sleeping, so this stays small.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Rank 0: the model of the experiment in the root attributes, and how to count a trial's
// parameters (reads config.json and the tokenizer files, never the weights).
void describe_model(const ExperimentConfig& cfg, CoordinatorRun& run) {
  if (cfg.experiment.trainable != "gpt") return;
  auto source = std::make_shared<const ModelSource>(ModelSource::open(cfg));
  const ModelSpec spec = source->spec(cfg);
  run.info.architecture = source->hf ? source->hf->model_type : arch_family_name(spec.family);
  run.info.tokenizer = source->tokenizer->description();
  const ParameterCounts counts = count_parameters(model_layout(spec));
  run.info.params_total = counts.total;
  run.info.params_trainable = counts.trainable;
  run.param_counts = [source, &cfg](const HParams& hp) -> std::pair<int64_t, int64_t> {
    try {
      const ParameterCounts c = count_parameters(model_layout(source->spec(with_hparams(cfg, hp))));
      return {c.total, c.trainable};
    } catch (const ConfigError&) {
      return {0, 0};  // the trial fails on its group with the reason
    }
  };
}

void print_kept(const std::string& path, const ExperimentConfig& cfg, const std::set<int64_t>& kept) {
  if (kept.empty() || cfg.experiment.trainable != "gpt") return;  // synthetic: kept for the test evaluation only
  std::string ids;
  for (int64_t id : kept) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
  std::printf("\nmpitune: the final weights of trial%s %s (experiment.keep = %s) are in %s/\n",
              kept.size() > 1 ? "s" : "", ids.c_str(), cfg.experiment.keep.c_str(), cfg.keep_root().c_str());
  std::printf("mpitune: export one as a Hugging Face folder: mpitune export %s --trial %lld --out DIR\n", path.c_str(),
              static_cast<long long>(*kept.rbegin()));
}

// Accelerators the trials ran on: distinct (host, GPU) pairs of the worker ranks on CUDA, else
// the worker ranks. The coordinator is not one.
int count_devices(const std::vector<GroupRecord>& groups) {
  std::set<std::string> gpus;
  int ranks = 0;
  for (const auto& g : groups) {
    size_t hp = 0, dp = 0;
    for (;;) {
      const size_t he = g.hosts.find(',', hp), de = g.devices.find(',', dp);
      const std::string dev = g.devices.substr(dp, de == std::string::npos ? std::string::npos : de - dp);
      const std::string host = g.hosts.substr(hp, he == std::string::npos ? std::string::npos : he - hp);
      ++ranks;
      if (dev.rfind("cuda", 0) == 0) gpus.insert(host + "/" + dev);
      if (de == std::string::npos || he == std::string::npos) break;
      hp = he + 1, dp = de + 1;
    }
  }
  return gpus.empty() ? ranks : static_cast<int>(gpus.size());
}

// The best trial's final weights as a Hugging Face / PEFT folder (experiment.export_dir), and
// how to load it. A failure is reported, not fatal: the result file and the kept weights stay.
void export_best(const ExperimentConfig& cfg, const std::string& path, const ExperimentData& data,
                 const std::set<int64_t>& kept) {
  const std::string dir = cfg.export_root();
  const TrialId best = data.summary.best_trial;
  if (dir.empty() || cfg.experiment.trainable != "gpt" || best < 0 || !kept.count(best)) return;
  std::printf("\n");
  std::fflush(stdout);
  try {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);  // a previous run's export of this output
    if (export_command({path, "--trial", std::to_string(best), "--out", dir}) != 0) return;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpitune: warning: could not export trial %lld to %s: %s\n", static_cast<long long>(best),
                 dir.c_str(), e.what());
    return;
  }
  if (cfg.lora.rank > 0 || cfg.space.find("lora.rank")) {
    std::printf(
        "mpitune: load it with peft:\n"
        "    from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        "    from peft import PeftModel\n"
        "    base = AutoModelForCausalLM.from_pretrained(\"%s\")\n"
        "    model = PeftModel.from_pretrained(base, \"%s\")\n"
        "    tokenizer = AutoTokenizer.from_pretrained(\"%s\")\n",
        cfg.model.path.c_str(), dir.c_str(), cfg.model.path.c_str());
  } else {
    std::printf(
        "mpitune: load it with transformers:\n"
        "    from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        "    model = AutoModelForCausalLM.from_pretrained(\"%s\")\n"
        "    tokenizer = AutoTokenizer.from_pretrained(\"%s\")\n",
        dir.c_str(), dir.c_str());
  }
  std::fflush(stdout);
}

void print_final(const ExperimentConfig& cfg, const std::string& path, const std::string& status,
                 double coordinator_cpu_s, const std::set<int64_t>& kept) {
  const ExperimentData data = read_hdf5_experiment(path);
  std::printf("\nmpitune: experiment '%s' %s; results in %s\n", cfg.experiment.name.c_str(), status.c_str(),
              path.c_str());
  std::printf("mpitune: the coordinator (rank 0) used %.1f s of CPU in %.1f s of wall time\n\n",
              coordinator_cpu_s, data.summary.elapsed_s);
  std::fputs(format_report({data}, nullptr, ReportFormat::Markdown).c_str(), stdout);
  std::fflush(stdout);
  print_kept(path, cfg, kept);
  export_best(cfg, path, data, kept);
}

}  // namespace

static int run_validated(const RunRequest& req, const std::string& text, bool resume);

int run_experiment(const RunRequest& req) {
  int rank = 0, size = 1;
  MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
  // 0. srun without PMI: N singletons that would each coordinate and write the same file.
  if (const std::string mismatch = pmi_mismatch(size, std::getenv("SLURM_NTASKS")); !mismatch.empty()) {
    const char* procid = std::getenv("SLURM_PROCID");  // one task says it, not all N
    if (!procid || std::atoi(procid) == 0) std::fprintf(stderr, "mpitune: error: %s\n", mismatch.c_str());
    return 2;
  }
  // 1. Rank 0 validates; every rank learns the outcome, so none is left waiting.
  int status = 0;
  std::string text;
  bool resume = false;
  OutputLock output_lock;  // rank 0 holds {output}.lock until run_experiment returns
  if (rank == 0) {
    try {
      PreparedConfig prepared = prepare_config(req, size, output_lock);
      text = std::move(prepared.text);
      resume = prepared.resume;
    } catch (const ConfigError& e) {
      status = 2;
      text = e.what();
    }
  }
  MPI_CHECK(MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD));
  broadcast_string(text, 0);
  if (status != 0) {
    if (rank == 0) std::fprintf(stderr, "mpitune: error: %s\n", text.c_str());
    return status;
  }
  try {
    return run_validated(req, text, resume);
  } catch (const std::exception& e) {
    // Past this point ranks may be blocked in communication: an orderly exit could hang, so
    // the failing rank ends the whole job.
    std::fprintf(stderr, "mpitune: rank %d: error: %s\n", rank, e.what());
    std::fflush(stderr);
    MpiSession::abort_job(1);
  }
}

int run_validated(const RunRequest& req, const std::string& text, bool resume) {
  const ExperimentConfig cfg = parse_config(IniFile::parse(text, "<config>"));

  // 2. Topology, communicators, and each rank's role.
  GroupComms comms(MPI_COMM_WORLD, cfg.experiment.group_size, cfg.experiment.groups_span_nodes);
  const Topology& topo = comms.topology();
  if (topo.is_coordinator()) {
    const std::string spanning = describe_spanning_groups(topo.layout, cfg.experiment.groups_span_nodes);
    if (!spanning.empty()) std::printf("%s\n", spanning.c_str());
    if (topo.test_hosts)
      std::fprintf(stderr, "mpitune: host names from MPITUNE_TEST_HOSTNAME_OF_RANK (a test-only override)\n");
    std::fflush(stdout);
  }
  MpiChannel channel(comms.control());
  install_stop_signal_handlers();

  std::unique_ptr<Trainable> trainable;
  std::string device = "coordinator";
  StartupWatch startup(topo, cfg.experiment.heartbeat_timeout_s);  // a rank lost while starting ends the job
  if (!topo.is_coordinator()) {
    inject_startup_fault(cfg.faults, topo.world_rank);
    TrainableSetup setup = make_trainable(cfg, topo, comms.group());
    trainable = std::move(setup.trainable);
    device = setup.device;
  }
  std::vector<GroupRecord> groups = startup.finish(device);
  for (GroupRecord& g : groups)  // rank 0: each rank's CPU set, from the placement table
    for (int r = 0; r < topo.group_size; ++r)
      g.cpus += (r ? ";" : "") + topo.cpus_of_rank.at(topo.world_rank_of(g.group, r));
  int exit_code = 0;

  if (topo.is_coordinator()) {
    const std::string path = cfg.output_path();
    // A new experiment on this output: the folders of an earlier one (its kept weights, paused
    // checkpoints and export) would be mistaken for this one's. Only folders named after the
    // output go: a checkpoint or export folder set elsewhere may be shared.
    // (A resumed one needs them: its checkpoints and kept weights are in them.)
    std::vector<std::string> stale{cfg.keep_root()};
    if (cfg.experiment.checkpoint_dir.find("{output}") != std::string::npos) stale.push_back(cfg.checkpoint_root());
    if (cfg.experiment.export_dir.find("{output}") != std::string::npos) stale.push_back(cfg.export_root());
    if (!resume)
      for (const std::string& dir : stale) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    std::optional<ExperimentData> old;
    if (resume) old.emplace();
    auto store = resume ? open_hdf5_store_for_resume(path, {}, &*old) : create_hdf5_store(path, cfg.experiment.overwrite);
    ExperimentInfo info = experiment_info(cfg, topo.num_groups, wall_now());
    info.mpitune_version = MPITUNE_VERSION;
    info.command_line = req.command_line;
    info.config_text = text;
    info.device_kind = groups.empty() ? "cpu" : groups[0].devices.substr(0, groups[0].devices.find(','));
    info.devices = count_devices(groups);
    if (!req.quiet)
      std::printf("mpitune: experiment '%s' (%s) on %d ranks: %d groups of %d; results in %s\n",
                  cfg.experiment.name.c_str(), method_name(cfg).c_str(), topo.world_size, topo.num_groups,
                  topo.group_size, path.c_str());
    CoordinatorRun run{cfg, topo, channel, *store, info, groups, req.quiet, {}, {}, old ? &*old : nullptr};
    run.verbose = req.verbose;
    describe_model(cfg, run);
    const double cpu0 = cpu_seconds();
    const std::string outcome = run_coordinator(run);
    const double coordinator_cpu = cpu_seconds() - cpu0;
    store->close();
    if (outcome == "aborted") {
      std::fflush(stdout);
      MpiSession::abort_job(4);  // a group is dead or hung: nothing collective can end the job
    }
    print_final(cfg, path, outcome, coordinator_cpu, run.kept);
    if (outcome == "interrupted") {
      std::printf("\nmpitune: interrupted; every running trial was checkpointed. Continue with the same command "
                  "(experiment.resume = auto) or: mpitune run --resume %s\n", path.c_str());
      std::fflush(stdout);
      exit_code = 3;
    }
  } else {
    GroupControl control(comms.group());
    StateTransfer transfer(comms.transfer(), topo);
    Worker worker(cfg, topo, control, channel, transfer, *trainable);
    worker.run();
  }
  return exit_code;
}

}  // namespace mpitune
