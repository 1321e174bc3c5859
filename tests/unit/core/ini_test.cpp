#include <gtest/gtest.h>

#include "mpitune/core/error.hpp"
#include "mpitune/core/ini.hpp"

namespace mpitune {

TEST(Ini, ParsesSectionsKeysAndComments) {
  auto ini = IniFile::parse("# top\n[experiment]\nname = demo  # inline\n; other\n[space]\nlr = loguniform(1e-4, 1e-2)\n");
  ASSERT_EQ(ini.sections().size(), 2u);
  EXPECT_EQ(*ini.get("experiment", "name"), "demo");
  EXPECT_EQ(*ini.get("space", "lr"), "loguniform(1e-4, 1e-2)");
  EXPECT_FALSE(ini.get("space", "wd").has_value());
  // ';' starts a comment only at the start of a line: inside a value it is text.
  const auto lists = IniFile::parse("[search]\n  ; a comment\ninitial_configs = lr=1 ; lr=2  # note\n");
  EXPECT_EQ(*lists.get("search", "initial_configs"), "lr=1 ; lr=2");
}

TEST(Ini, RejectsDuplicatesAndOrphans) {
  EXPECT_THROW(IniFile::parse("[a]\nx=1\nx=2\n"), ConfigError);
  EXPECT_THROW(IniFile::parse("x=1\n"), ConfigError);
  EXPECT_THROW(IniFile::parse("[a]\njust text\n"), ConfigError);
  EXPECT_THROW(IniFile::parse("[a\n"), ConfigError);
  EXPECT_THROW(IniFile::parse("[a]\n[a]\n"), ConfigError);
}

TEST(Ini, OverrideReplacesOrAdds) {
  auto ini = IniFile::parse("[scheduler]\nmax_t = 9\n");
  ini.apply_override("scheduler.max_t=27");
  ini.apply_override("experiment.seed = 4");
  EXPECT_EQ(*ini.get("scheduler", "max_t"), "27");
  EXPECT_EQ(*ini.get("experiment", "seed"), "4");
  EXPECT_THROW(ini.apply_override("nodot=1"), ConfigError);
  EXPECT_THROW(ini.apply_override("a.b"), ConfigError);
  // to_text round-trips.
  auto again = IniFile::parse(ini.to_text());
  EXPECT_EQ(*again.get("scheduler", "max_t"), "27");
}

TEST(Ini, ErrorNamesTheLine) {
  try {
    IniFile::parse("[a]\nok = 1\nbroken\n", "x.ini");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "x.ini:3");
  }
}

}  // namespace mpitune
