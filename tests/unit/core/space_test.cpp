// Search space: parsing (and every error with its field), sampling, unit mapping and clipping.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "mpitune/core/error.hpp"
#include "mpitune/core/ini.hpp"
#include "mpitune/search/space.hpp"

namespace mpitune {
namespace {

// The field of the ConfigError that parsing `spec` throws, or "" if it parses.
std::string error_field(const std::string& name, const std::string& spec, std::string* what = nullptr) {
  try {
    Space::parse_domain(name, spec);
  } catch (const ConfigError& e) {
    if (what) *what = e.what();
    return e.field();
  }
  return "";
}

TEST(Space, ParsesNumericKinds) {
  Domain lr = Space::parse_domain("lr", "loguniform(1e-4, 1e-2)");
  EXPECT_EQ(lr.name, "lr");
  EXPECT_EQ(lr.kind, DomainKind::LogUniform);
  EXPECT_DOUBLE_EQ(lr.low, 1e-4);
  EXPECT_DOUBLE_EQ(lr.high, 1e-2);

  Domain wd = Space::parse_domain("wd", "  uniform( 0 ,0.2 ) ");
  EXPECT_EQ(wd.kind, DomainKind::Uniform);
  EXPECT_DOUBLE_EQ(wd.low, 0);
  EXPECT_DOUBLE_EQ(wd.high, 0.2);

  Domain n = Space::parse_domain("n_layer", "int(2, 6)");
  EXPECT_EQ(n.kind, DomainKind::Int);
  EXPECT_EQ(n.low, 2);
  EXPECT_EQ(n.high, 6);
  // A single-value int range is allowed: both bounds are inclusive.
  EXPECT_EQ(Space::parse_domain("k", "int(3, 3)").low, 3);
  EXPECT_EQ(Space::parse_domain("k", "int(-2.0, 1e1)").high, 10);
}

TEST(Space, ChoiceValueTypes) {
  Domain ints = Space::parse_domain("bs", "choice(8, 16, 32)");
  ASSERT_EQ(ints.values.size(), 3u);
  for (const auto& v : ints.values) EXPECT_TRUE(v.is_int());
  EXPECT_EQ(ints.values[1], ParamValue(16));

  // One decimal makes every value a double.
  Domain dbl = Space::parse_domain("x", "grid(0, 0.5, 1)");
  EXPECT_EQ(dbl.kind, DomainKind::Grid);
  for (const auto& v : dbl.values) EXPECT_TRUE(v.is_double());
  EXPECT_EQ(dbl.values[2], ParamValue(1.0));
  EXPECT_TRUE(Space::parse_domain("x", "choice(1e3, 2)").values[0].is_double());

  Domain str = Space::parse_domain("opt", "choice(adam, 'sgd', \"ada, grad\")");
  ASSERT_EQ(str.values.size(), 3u);
  EXPECT_EQ(str.values[0], ParamValue("adam"));
  EXPECT_EQ(str.values[1], ParamValue("sgd"));
  EXPECT_EQ(str.values[2], ParamValue("ada, grad"));  // a quoted comma does not split

  // A quoted number is text; mixing text and numbers makes everything text.
  EXPECT_TRUE(Space::parse_domain("x", "choice('1', '2')").values[0].is_string());
  Domain mixed = Space::parse_domain("x", "choice(1, relu)");
  EXPECT_EQ(mixed.values[0], ParamValue("1"));
}

TEST(Space, EveryParseErrorNamesTheField) {
  struct Case {
    const char* spec;
    const char* says;  // a word the message must contain
  };
  const Case cases[] = {
      {"gaussian(0, 1)", "unknown kind"},        // unknown kind
      {"uniform 0, 1", "kind(arguments)"},       // not a call
      {"", "kind(arguments)"},
      {"(0, 1)", "unknown kind"},
      {"uniform(0, 1, 2)", "2 arguments"},       // wrong argument count
      {"loguniform(1e-3)", "2 arguments"},
      {"int()", "2 arguments"},
      {"uniform(a, 1)", "not a number"},         // non-numeric bounds
      {"uniform(0, 1x)", "not a number"},
      {"uniform(1, 1)", "empty or inverted"},    // empty range
      {"uniform(2, 1)", "empty or inverted"},    // inverted range
      {"loguniform(0.1, 0.01)", "empty or inverted"},
      {"loguniform(0, 1)", "low > 0"},           // loguniform low <= 0
      {"loguniform(-1, 1)", "low > 0"},
      {"int(5, 2)", "inverted"},                 // int low > high
      {"int(1.5, 4)", "whole numbers"},          // int bounds not integral
      {"choice()", "no values"},                 // empty choice / grid
      {"grid()", "no values"},
      {"choice(1, , 2)", "empty value"},
      {"choice(8, 16, 8)", "duplicate"},         // duplicate choices
      {"grid(a, 'a')", "duplicate"},
      {"choice(1.0, 1)", "duplicate"},
      {"choice('x, y)", "quote"},
  };
  for (const auto& c : cases) {
    std::string what;
    EXPECT_EQ(error_field("lr", c.spec, &what), "space.lr") << c.spec;
    EXPECT_NE(what.find(c.says), std::string::npos) << c.spec << " -> " << what;
  }
  // The unknown-kind message lists the known kinds as the fix.
  std::string what;
  error_field("lr", "Uniform(0, 1)", &what);
  EXPECT_NE(what.find("loguniform(low, high)"), std::string::npos) << what;
}

TEST(Space, ParsesASectionInOrder) {
  IniFile ini = IniFile::parse("[space]\nlr = loguniform(1e-4, 1e-2)\nbs = choice(8, 16)\nwd = uniform(0, 0.2)\n");
  Space s = Space::parse(*ini.section("space"));
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.domains()[0].name, "lr");
  EXPECT_EQ(s.domains()[2].name, "wd");
  ASSERT_NE(s.find("bs"), nullptr);
  EXPECT_EQ(s.find("bs")->kind, DomainKind::Choice);
  EXPECT_EQ(s.find("nope"), nullptr);

  IniFile bad = IniFile::parse("[space]\nlr = loguniform(1e-4, 1e-2)\nwd = uniform(1, 0)\n");
  try {
    Space::parse(*bad.section("space"));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "space.wd");
  }
}

TEST(Space, KindNamesAndDescribeRoundTrip) {
  EXPECT_STREQ(domain_kind_name(DomainKind::Uniform), "uniform");
  EXPECT_STREQ(domain_kind_name(DomainKind::LogUniform), "loguniform");
  EXPECT_STREQ(domain_kind_name(DomainKind::Int), "int");
  EXPECT_STREQ(domain_kind_name(DomainKind::Choice), "choice");
  EXPECT_STREQ(domain_kind_name(DomainKind::Grid), "grid");

  EXPECT_EQ(Space::parse_domain("lr", "loguniform(1e-4, 1e-2)").describe(), "loguniform(0.0001, 0.01)");
  EXPECT_EQ(Space::parse_domain("bs", "choice(8, 16, 32)").describe(), "choice(8, 16, 32)");
  EXPECT_EQ(Space::parse_domain("n", "int(2, 6)").describe(), "int(2, 6)");
  for (const char* spec : {"uniform(0, 0.2)", "loguniform(3e-05, 0.1)", "int(-3, 7)", "grid(1.0, 2.0)",
                           "choice(0.1, 0.25)", "choice(adam, \"1\", 'say \"hi\"', x y)", "choice(-5, 7)"}) {
    const Domain d = Space::parse_domain("p", spec);
    const Domain again = Space::parse_domain("p", d.describe());
    EXPECT_EQ(again.kind, d.kind) << spec;
    EXPECT_EQ(again.low, d.low) << spec;
    EXPECT_EQ(again.high, d.high) << spec;
    EXPECT_EQ(again.values, d.values) << spec << " -> " << d.describe();
  }
}

Space test_space() {
  return Space({Space::parse_domain("lr", "loguniform(1e-5, 1e-1)"),
                Space::parse_domain("wd", "uniform(-1, 2)"),
                Space::parse_domain("n", "int(2, 5)"),
                Space::parse_domain("opt", "choice(adam, sgd, lion)"),
                Space::parse_domain("bs", "grid(8, 16)")});
}

TEST(Space, SamplesStayInBoundsAndCoverTheDomain) {
  const Space space = test_space();
  Rng rng(7);
  std::set<int64_t> ints;
  std::set<std::string> opts;
  int lr_below_1e3 = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const HParams hp = space.sample(rng);
    ASSERT_EQ(hp.size(), 5u);
    EXPECT_EQ(hp.entries()[0].first, "lr");  // space order
    const double lr = hp.at("lr").as_double();
    EXPECT_TRUE(hp.at("lr").is_double());
    EXPECT_GE(lr, 1e-5);
    EXPECT_LE(lr, 1e-1);
    lr_below_1e3 += lr < 1e-3;
    const double wd = hp.at("wd").as_double();
    EXPECT_GE(wd, -1);
    EXPECT_LT(wd, 2);
    ASSERT_TRUE(hp.at("n").is_int());
    ints.insert(hp.at("n").as_int());
    opts.insert(hp.at("opt").as_string());
    EXPECT_TRUE(hp.at("bs") == ParamValue(8) || hp.at("bs") == ParamValue(16));
  }
  EXPECT_EQ(ints, (std::set<int64_t>{2, 3, 4, 5}));  // both int bounds are reachable
  EXPECT_EQ(opts.size(), 3u);
  // Log-uniform: half the draws fall below the geometric midpoint 1e-3 (binomial sd ~ 32).
  EXPECT_NEAR(lr_below_1e3, n / 2, 160);
}

TEST(Space, SamplingIsReproducible) {
  const Space space = test_space();
  Rng a(42), b(42), c(43);
  bool any_diff = false;
  for (int i = 0; i < 50; ++i) {
    const HParams x = space.sample(a), y = space.sample(b), z = space.sample(c);
    EXPECT_EQ(x, y);
    any_diff |= x != z;
  }
  EXPECT_TRUE(any_diff);
}

TEST(Space, UnitMappingRoundTrips) {
  const Space space = test_space();
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    const HParams hp = space.sample(rng);
    for (const auto& d : space.domains()) {
      const ParamValue& v = hp.at(d.name);
      const double u = d.to_unit(v);
      if (d.is_categorical()) {
        EXPECT_EQ(u, std::round(u));  // an index, not scaled
        EXPECT_EQ(d.from_unit(u), v);
      } else {
        EXPECT_GE(u, 0);
        EXPECT_LE(u, 1);
        const ParamValue back = d.from_unit(u);
        EXPECT_NEAR(back.as_double(), v.as_double(), 1e-12 * std::fabs(v.as_double()) + 1e-15) << d.name;
        EXPECT_EQ(back.is_int(), v.is_int());
      }
    }
  }
  const Domain lr = *space.find("lr");
  EXPECT_NEAR(lr.to_unit(1e-3), 0.5, 1e-12);  // log space: the geometric midpoint
  EXPECT_NEAR(lr.from_unit(0.25).as_double(), 1e-4, 1e-16);
  const Domain n = *space.find("n");
  EXPECT_EQ(n.to_unit(ParamValue(2)), 0.0);
  EXPECT_EQ(n.to_unit(ParamValue(5)), 1.0);
  EXPECT_EQ(n.from_unit(0.5), ParamValue(4));  // 3.5 rounds away from zero
  // from_unit clips out-of-range coordinates.
  EXPECT_EQ(n.from_unit(-3), ParamValue(2));
  EXPECT_EQ(space.find("wd")->from_unit(7).as_double(), 2.0);
  EXPECT_EQ(space.find("opt")->from_unit(9), ParamValue("lion"));
  EXPECT_EQ(space.find("opt")->to_unit(ParamValue("sgd")), 1.0);
  // A value that is not a choice is a bug of the caller, not silently index 0.
  EXPECT_THROW(space.find("opt")->to_unit(ParamValue("rmsprop")), InfraError);
  // int 16 and double 16.0 are the same choice (values that went through text).
  EXPECT_EQ(space.find("bs")->to_unit(ParamValue(16.0)), 1.0);
}

TEST(Space, ClipKeepsValuesInBounds) {
  const Space space = test_space();
  const Domain& wd = *space.find("wd");
  EXPECT_EQ(wd.clip(5.0), ParamValue(2.0));
  EXPECT_EQ(wd.clip(-5.0), ParamValue(-1.0));
  EXPECT_EQ(wd.clip(0.5), ParamValue(0.5));
  const Domain& lr = *space.find("lr");
  EXPECT_EQ(lr.clip(1.0), ParamValue(1e-1));
  EXPECT_EQ(lr.clip(0.0), ParamValue(1e-5));
  const Domain& n = *space.find("n");
  EXPECT_EQ(n.clip(3.6), ParamValue(4));
  EXPECT_EQ(n.clip(99.0), ParamValue(5));
  EXPECT_TRUE(n.clip(2.2).is_int());
  EXPECT_THROW(space.find("opt")->clip(1.0), InfraError);
}

TEST(Space, RejectsDuplicateNames) {
  EXPECT_THROW(Space({Space::parse_domain("a", "uniform(0, 1)"), Space::parse_domain("a", "int(0, 1)")}),
               ConfigError);
}

}  // namespace
}  // namespace mpitune
