// mpitune report (see report/report_command.hpp).
#include "mpitune/runtime/report_command.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/report/html_report.hpp"
#include "mpitune/report/report.hpp"
#include "mpitune/report/table_csv.hpp"
#include "mpitune/runtime/cli_options.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace po = boost::program_options;

namespace mpitune {
namespace {

ExperimentData read_result_file(const std::string& path) {
  ExperimentData d = read_hdf5_experiment(path);
  if (d.path.empty()) d.path = path;  // rows are keyed by file
  return d;
}

// --table: the CSV of one table of the files (the comparison's options do not apply).
int print_table(const po::variables_map& vm) {
  const ResultTable table = parse_csv_table(vm["table"].as<std::string>(), "--table");
  if (!vm["format"].defaulted() && vm["format"].as<std::string>() != "csv")
    throw ConfigError("--table", "writes CSV only, but --format " + vm["format"].as<std::string>() + " was given",
                      "drop --format or give --format csv");
  if (vm.count("reference") || vm.count("aggregate"))
    throw ConfigError("--table", "exports the tables of the FILEs; --reference and --aggregate are for the comparison",
                      "list every file to export before --table, without --reference/--aggregate");
  if (!vm.count("files"))
    throw ConfigError("report", "no result file given", "mpitune report results/NAME.h5 --table trials");
  std::vector<ExperimentData> runs;
  for (const auto& f : vm["files"].as<std::vector<std::string>>()) runs.push_back(read_result_file(f));
  std::vector<const ExperimentData*> files;
  for (const auto& r : runs) files.push_back(&r);
  std::cout << format_table_csv(files, table);
  return 0;
}

}  // namespace

int report_command(const std::vector<std::string>& args) {
  po::options_description desc(
      "mpitune report FILE... [--reference FILE...] [--aggregate] [--format md|csv] [--bootstrap N]\n"
      "  One row per result file: best eval loss at full budget and at any step, test loss with its\n"
      "  95% interval, time and device-minutes to the best and in total, cost ratio against the\n"
      "  reference, time and device-minutes until the reference's best was matched; the paired\n"
      "  bootstrap of each test loss against the reference's; then per experiment its best\n"
      "  configuration, test evaluation and forgetting. --aggregate: one row per experiment name\n"
      "  (repeated runs with other seeds), median [25%, 75%] of each figure; the reference runs'\n"
      "  medians are the reference.\n"
      "mpitune report FILE... --table trials|metrics|decisions|pbt_transfers|final|groups|segments\n"
      "  One table of the files as CSV (implies --format csv): the file's columns and types, one column\n"
      "  per hyperparameter (/pbt_transfers: old.<name>, new.<name>), NaN as an empty field, text\n"
      "  quoted. With several files each row starts with a `file` column.\n"
      "mpitune report FILE... [--reference FILE] --html report.html [--plots DIR]\n"
      "  Also writes one self-contained HTML page (inline SVG, no JavaScript, nothing fetched): learning\n"
      "  curves, best so far against device-minutes, rungs, PBT lineage, hyperparameters and their\n"
      "  importance, the tables and the per-group timeline; --plots writes each figure as an SVG file.\n\noptions");
  desc.add_options()("help,h", "this help")
      ("files", po::value<std::vector<std::string>>()->composing(), "result files (.h5)")
      ("reference,r", po::value<std::vector<std::string>>()->multitoken()->composing(),
       "result file(s) the ratios and comparisons are relative to (several only with --aggregate); "
       "a reference also among the files is listed once")
      ("aggregate,a", "one row per experiment name: median and interquartile range over its files")
      ("format,f", po::value<std::string>()->default_value("md"), "md (Markdown) or csv")
      ("table,t", po::value<std::string>(),
       "print this table of the files as CSV instead of the report: trials, metrics, decisions, "
       "pbt_transfers, final, groups or segments")
      ("html", po::value<std::string>(), "also write the HTML report to this file")
      ("plots", po::value<std::string>(), "also write each figure of the HTML report as an SVG file into this folder")
      ("bootstrap", po::value<int>()->default_value(kReportBootstrapResamples),
       "resamples of the paired bootstrap of test losses against the reference (fixed seed); 0: no "
       "significance lines");
  po::positional_options_description pos;
  pos.add("files", -1);
  const po::variables_map vm = parse_command_line(args, desc, &pos, "report");
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (vm.count("table")) return print_table(vm);
  ReportOptions options;
  options.format = parse_report_format(vm["format"].as<std::string>(), "--format");
  options.aggregate = vm.count("aggregate") > 0;
  options.bootstrap_resamples = vm["bootstrap"].as<int>();
  if (options.bootstrap_resamples < 0)
    throw ConfigError("--bootstrap", "must be at least 0", "give the number of resamples, e.g. 10000");
  const std::vector<std::string> reference_paths =
      vm.count("reference") ? vm["reference"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (!vm.count("files") && reference_paths.empty())
    throw ConfigError("report", "no result file given", "mpitune report results/NAME.h5");
  if (reference_paths.size() > 1 && !options.aggregate) {
    std::string given;
    for (const auto& p : reference_paths) given += (given.empty() ? "" : " ") + p;
    throw ConfigError("--reference", std::to_string(reference_paths.size()) + " files given (" + given + ")",
                      "give one, or add --aggregate for repeated runs; the files to report go before --reference");
  }
  std::vector<ExperimentData> runs;
  if (vm.count("files"))
    for (const auto& f : vm["files"].as<std::vector<std::string>>()) runs.push_back(read_result_file(f));
  std::vector<ExperimentData> references;
  for (const auto& f : reference_paths) references.push_back(read_result_file(f));
  std::vector<const ExperimentData*> reference_ptrs;
  for (const auto& r : references) reference_ptrs.push_back(&r);
  const std::string html_path = vm.count("html") ? vm["html"].as<std::string>() : "";
  const std::string plots_dir = vm.count("plots") ? vm["plots"].as<std::string>() : "";
  if ((!html_path.empty() || !plots_dir.empty()) && options.aggregate)
    throw ConfigError(html_path.empty() ? "--plots" : "--html", "does not aggregate repeated runs",
                      "drop --aggregate: the page shows every file");
  std::cout << format_report(runs, reference_ptrs, options);
  std::cout.flush();
  HtmlReportOptions html;
  if (!html_path.empty()) {
    const std::string page = format_html_report(runs, reference_ptrs, html);
    write_file_atomic(html_path, page.data(), page.size());
    std::fprintf(stderr, "mpitune: wrote %s (%.0f KB)\n", html_path.c_str(), page.size() / 1024.0);
  }
  if (!plots_dir.empty()) {
    write_plot_files(runs, reference_ptrs, html, plots_dir);
    std::fprintf(stderr, "mpitune: wrote the figures into %s\n", plots_dir.c_str());
  }
  return 0;
}

}  // namespace mpitune
