// The CSV tables of `mpitune report --table` (report/table_csv.hpp): column names and order,
// typed fields (integers bare, floats with a '.' or exponent and exact, NaN empty, text quoted),
// hyperparameters as typed columns, several files with a leading `file` column. Rows are split
// with a small RFC 4180 reader below and compared with values set by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "mpitune/core/error.hpp"
#include "mpitune/report/table_csv.hpp"
#include "report_fixtures.hpp"

namespace mpitune {
namespace {

using namespace report_fixtures;
using Rows = std::vector<std::vector<std::string>>;

// Splits CSV text into rows of fields; a quoted field keeps its quotes (so the tests see which
// fields were quoted), with "" unescaped inside.
Rows read_csv(const std::string& text) {
  Rows rows(1);
  std::string field;
  bool quoted = false, in_field = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
        field += '"';
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
      field += '"';
    } else if (c == ',' || c == '\n') {
      rows.back().push_back(field);
      field.clear();
      if (c == '\n') rows.emplace_back();
    } else {
      field += c;
    }
    in_field = true;
  }
  EXPECT_TRUE(in_field && field.empty() && rows.back().empty()) << "the text does not end with a line break";
  rows.pop_back();
  return rows;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// lr (float), n_layer (int range), batch_size (choice of ints), optimizer (choice with text).
ExperimentData tuned() {
  ExperimentData d = experiment("tuned", "results/tuned.h5", "pbt", 2, 100, 1000);
  d.info.space = Space({Space::parse_domain("lr", "loguniform(1e-4, 1e-2)"), Space::parse_domain("n_layer", "int(2, 6)"),
                        Space::parse_domain("batch_size", "choice(8, 16)"),
                        Space::parse_domain("optimizer", "choice(adam, sgd)")});
  HParams a;
  a.set("lr", 0.001);
  a.set("n_layer", int64_t{4});
  a.set("batch_size", int64_t{16});
  a.set("optimizer", "adam");
  TrialRecord t0 = trial(0, TrialStatus::Completed, 2.5, 100, a);
  t0.group = 1;
  t0.start_time = 1000.25;
  t0.end_time = 1100;
  t0.device_seconds = 200;
  t0.reason = "reached max_t, \"100\" steps";
  TrialRecord t1 = trial(1, TrialStatus::Running, kNaN, 0, {});  // no eval yet, no hparams
  t1.best_metric = kNaN;
  t1.metric_step = -1;
  d.trials = {t0, t1};
  d.metrics = {metric(0, 10, 1010.5, kNaN, 3.25), metric(0, 100, 1099, 2.5, 2.0)};
  TransferRecord x;
  x.time = 1050;
  x.source_trial = 0;
  x.source_group = 1;
  x.target_trial = 1;
  x.target_group = 0;
  x.step = 50;
  x.bytes = 1234;
  x.seconds = 0.5;
  x.payload = "model";
  x.via = "ranks";
  x.old_hparams = "lr=0.002";
  x.old_values.set("lr", 0.002);
  x.old_values.set("n_layer", int64_t{2});
  x.new_values = a;
  d.transfers = {x};
  return d;
}

TEST(CsvFields, FloatsReadBackExactlyAndStayFloats) {
  EXPECT_EQ(csv_float(0.1), "0.1");
  EXPECT_EQ(csv_float(2.0), "2.0");  // not "2": pandas would make the column int64
  EXPECT_EQ(csv_float(-0.0), "-0.0");
  EXPECT_EQ(csv_float(kNaN), "");
  EXPECT_EQ(csv_float(INFINITY), "inf");
  EXPECT_EQ(csv_float(-INFINITY), "-inf");
  EXPECT_EQ(csv_float(1e-5), "1e-05");
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  for (int i = 0; i < 1000; ++i) {
    const double x = u(gen) * std::pow(10.0, static_cast<int>(gen() % 40) - 20);
    EXPECT_EQ(std::strtod(csv_float(x).c_str(), nullptr), x) << csv_float(x);
  }
}

TEST(CsvFields, TextIsQuotedWithQuotesDoubled) {
  EXPECT_EQ(csv_text(""), "\"\"");
  EXPECT_EQ(csv_text("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_text("say \"hi\"\nthere"), "\"say \"\"hi\"\"\nthere\"");
}

TEST(ResultTables, TrialsHaveOneTypedColumnPerHyperparameter) {
  const ExperimentData d = tuned();
  const Rows rows = read_csv(format_table_csv({&d}, ResultTable::Trials));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(joined(rows[0]),
            "id,parent,group,status,lr,n_layer,batch_size,optimizer,start_time,end_time,last_step,best_metric,"
            "last_metric,metric_step,device_seconds,reason,params_total,params_trainable");
  EXPECT_EQ(joined(rows[1]),
            "0,-1,1,\"completed\",0.001,4,16,\"adam\",1000.25,1100.0,100,2.5,2.5,100,200.0,"
            "\"reached max_t, \"100\" steps\",0,0");
  // A running trial without hyperparameters or an evaluation: empty fields, never "nan".
  EXPECT_EQ(joined(rows[2]), "1,-1,-1,\"running\",,,,,,,0,,,-1,0.0,\"\",0,0");
}

TEST(ResultTables, MetricsKeepNaNEmpty) {
  const ExperimentData d = tuned();
  const Rows rows = read_csv(format_table_csv({&d}, ResultTable::Metrics));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(joined(rows[0]), "trial,step,time,train_loss,eval_loss,retention_loss,lr,tokens,throughput,loss_scale");
  EXPECT_EQ(joined(rows[1]), "0,10,1010.5,3.25,,,,0,,");
  EXPECT_EQ(joined(rows[2]), "0,100,1099.0,2.0,2.5,,,0,,");
}

TEST(ResultTables, TransfersHaveOldAndNewColumnsNotText) {
  const ExperimentData d = tuned();
  const Rows rows = read_csv(format_table_csv({&d}, ResultTable::PbtTransfers));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(joined(rows[0]),
            "time,source_trial,source_group,target_trial,target_group,step,bytes,seconds,payload,via,"
            "old.lr,old.n_layer,old.batch_size,old.optimizer,new.lr,new.n_layer,new.batch_size,new.optimizer");
  EXPECT_EQ(joined(rows[1]), "1050.0,0,1,1,0,50,1234,0.5,\"model\",\"ranks\",0.002,2,,,0.001,4,16,\"adam\"");
}

TEST(ResultTables, IntegralFloatHyperparameterStaysAFloatAndIntsStayInts) {
  ExperimentData d = tuned();
  d.trials[0].hparams.set("lr", 1.0);                // a float domain's whole value
  d.trials[0].hparams.set("n_layer", 3.0);           // an int domain's value held as a double
  const Rows rows = read_csv(format_table_csv({&d}, ResultTable::Trials));
  EXPECT_EQ(rows[1][4], "1.0");
  EXPECT_EQ(rows[1][5], "3");
}

TEST(ResultTables, SeveralFilesStartEachRowWithTheFile) {
  const ExperimentData a = tuned();
  ExperimentData b = grid();  // no /space: its trials' hyperparameters (lr) give the columns
  const Rows rows = read_csv(format_table_csv({&a, &b}, ResultTable::Trials));
  ASSERT_EQ(rows.size(), 1u + 2 + 2);
  EXPECT_EQ(rows[0][0], "file");
  EXPECT_EQ(rows[0][5], "lr");
  EXPECT_EQ(rows[0].size(), 19u);  // lr is one column for both files
  EXPECT_EQ(rows[1][0], "\"results/tuned.h5\"");
  EXPECT_EQ(rows[3][0], "\"results/grid.h5\"");
  EXPECT_EQ(rows[3][5], "0.001");
  EXPECT_EQ(rows[3][6], "");  // grid has no n_layer
  EXPECT_EQ(rows[4][5], "");  // its trial 1 has no hyperparameters
  for (const auto& r : rows) EXPECT_EQ(r.size(), rows[0].size());
}

TEST(ResultTables, EmptyTablesHaveTheirHeaderOnly) {
  const ExperimentData d = tuned();  // no decisions, finals, groups or segments
  for (ResultTable t : {ResultTable::Decisions, ResultTable::Final, ResultTable::Groups, ResultTable::Segments}) {
    const Rows rows = read_csv(format_table_csv({&d}, t));
    ASSERT_EQ(rows.size(), 1u) << csv_table_name(t);
  }
  EXPECT_EQ(joined(read_csv(format_table_csv({&d}, ResultTable::Final))[0]),
            "label,trial,step,hparams,eval_loss,test_loss,test_ci_low,test_ci_high,test_documents,test_tokens,"
            "bootstrap,retention_loss,seconds");
}

TEST(ResultTables, DecisionsGroupsSegmentsAndFinalRows) {
  ExperimentData d = tuned();
  DecisionRecord dec;
  dec.time = 1001;
  dec.trial = 0;
  dec.step = 10;
  dec.bracket = 0;
  dec.rung = 1;
  dec.budget = 27;
  dec.action = "stop";
  dec.reason = "below the cutoff";
  d.decisions = {dec};
  d.groups = {GroupRecord{0, "1,2", "node01,node01", "cpu"}};
  d.groups[0].cpus = "0-3;4-7";
  SegmentRecord s;
  s.index = 0;
  s.start_time = 1000;
  s.status = "running";
  s.world_size = 5;
  d.segments = {s};
  FinalRecord f;
  f.label = "best";
  f.trial = 0;
  f.step = 100;
  f.test_loss = 2.25;
  f.test_ci_low = 2.125;
  f.test_ci_high = 2.5;
  f.test_documents = 3;
  f.test_tokens = 30;
  f.bootstrap = 1000;
  d.finals = {f};
  EXPECT_EQ(joined(read_csv(format_table_csv({&d}, ResultTable::Decisions))[1]),
            "1001.0,0,10,0,1,27.0,\"stop\",\"below the cutoff\"");
  EXPECT_EQ(joined(read_csv(format_table_csv({&d}, ResultTable::Groups))[1]), "0,\"1,2\",\"node01,node01\",\"cpu\",\"0-3;4-7\"");
  EXPECT_EQ(joined(read_csv(format_table_csv({&d}, ResultTable::Segments))[1]),
            "0,1000.0,,\"running\",0.0,0.0,5,0,0,0,\"\",\"\",0,\"\"");
  EXPECT_EQ(joined(read_csv(format_table_csv({&d}, ResultTable::Final))[1]),
            "\"best\",0,100,\"\",,2.25,2.125,2.5,3,30,1000,,0.0");
}

TEST(ResultTables, UnknownTableNamesTheOptionAndEveryTable) {
  EXPECT_EQ(parse_csv_table("pbt_transfers"), ResultTable::PbtTransfers);
  try {
    parse_csv_table("trial");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.field(), "--table");
    for (const auto& n : csv_table_names()) EXPECT_NE(m.find(n), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace mpitune
