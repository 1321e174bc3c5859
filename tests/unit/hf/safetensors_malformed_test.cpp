// Every way a safetensors file can be malformed is an InfraError that names the file and says
// what is wrong; nothing is read from a file whose header does not check out. The files are
// assembled by hand: a header length, the JSON, the data.
#include <gtest/gtest.h>

#include "mpitune/core/error.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "safetensors_test_util.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::assemble;
using testing::le64;

struct Case {
  const char* what;
  std::string bytes;
  const char* expect;  // a piece of the message
};

// A valid 2-tensor file's pieces, for cases that break one thing.
std::string tensor(const std::string& name, const std::string& body) {
  return "\"" + name + "\":{" + body + "}";
}

std::vector<Case> cases() {
  const std::string f32x2 = R"("dtype":"F32","shape":[2],"data_offsets":)";
  const std::string data16(16, '\x01');
  return {
      {"empty file", "", "shorter than the 8-byte header length"},
      {"7 bytes", std::string(7, '\0'), "shorter than the 8-byte header length"},
      {"header past the end", le64(100) + "{}", "runs past the end"},
      {"absurd header length", le64(uint64_t{1} << 62) + "{}", "absurdly large"},
      {"header length 2^64-1", le64(~uint64_t{0}) + "{}", "absurdly large"},
      {"not JSON", assemble("{\"a\":", data16), "invalid JSON"},
      {"not UTF-8", assemble("{\"\xff\xfe\":1}"), "invalid JSON"},
      {"NUL padding", assemble(std::string("{}\0\0\0\0\0\0", 8)), "invalid JSON"},
      {"JSON array", assemble("[1,2]"), "not an object"},
      {"JSON string", assemble("\"hello\""), "not an object"},
      {"entry not an object", assemble(R"({"w":[1,2]})"), "tensor 'w' is array, not an object"},
      {"no dtype", assemble(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", data16), "no \"dtype\""},
      {"no shape", assemble(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", data16), "no \"shape\""},
      {"no offsets", assemble(R"({"w":{"dtype":"F32","shape":[2]}})", data16), "no \"data_offsets\""},
      {"dtype not a string", assemble(R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", data16),
       "dtype is 4"},
      {"unknown dtype", assemble(R"({"w":{"dtype":"F8_E5M2","shape":[2],"data_offsets":[0,2]}})", data16),
       "unknown dtype 'F8_E5M2'"},
      {"negative dim", assemble(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data16),
       "shape[0] is -2, negative"},
      {"fractional dim", assemble(R"({"w":{"dtype":"F32","shape":[2,1.5],"data_offsets":[0,8]}})", data16),
       "shape[1] is 1.5, not a non-negative integer"},
      {"string dim", assemble(R"({"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", data16),
       "not a non-negative integer"},
      {"shape not an array", assemble(R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", data16),
       "shape is 2, not an array"},
      {"shape overflows", assemble(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data16),
       "too many elements"},
      {"offsets not a pair", assemble("{" + tensor("w", f32x2 + "[0,8,9]") + "}", data16),
       "not [begin, end]"},
      {"negative offset", assemble("{" + tensor("w", f32x2 + "[-8,0]") + "}", data16),
       "data_offsets[0] is -8, negative"},
      {"end before begin", assemble("{" + tensor("w", f32x2 + "[8,0]") + "}", data16),
       "end before they begin"},
      {"offsets past the data", assemble("{" + tensor("w", f32x2 + "[12,20]") + "}", data16),
       "run past the data section"},
      {"truncated data", assemble("{" + tensor("w", f32x2 + "[0,8]") + "}", "abc"),
       "run past the data section"},
      {"size mismatch", assemble("{" + tensor("w", f32x2 + "[0,12]") + "}", data16),
       "hold 12 bytes but F32 [2] is 8 bytes"},
      {"overlap", assemble("{" + tensor("w", f32x2 + "[0,8]") + "," + tensor("v", f32x2 + "[4,12]") + "}", data16),
       "overlap"},
      {"same range twice", assemble("{" + tensor("w", f32x2 + "[8,16]") + "," + tensor("v", f32x2 + "[8,16]") + "}", data16),
       "overlap"},
      {"name twice", assemble("{" + tensor("w", f32x2 + "[0,8]") + "," + tensor("w", f32x2 + "[8,16]") + "}", data16),
       "'w' appears twice"},
      {"metadata not an object", assemble(R"({"__metadata__":"pt"})"), "__metadata__ is string"},
      {"metadata value not a string", assemble(R"({"__metadata__":{"format":1}})"),
       "__metadata__['format'] is 1, not a string"},
  };
}

TEST(SafetensorsMalformed, EachProblemIsAnInfraErrorNamingTheFile) {
  testing::TempDir dir;
  int n = 0;
  for (const auto& c : cases()) {
    const std::string path = dir.file("bad" + std::to_string(n++) + ".safetensors");
    testing::write_binary(path, c.bytes);
    try {
      SafetensorsFile::open(path);
      ADD_FAILURE() << c.what << ": opened";
    } catch (const InfraError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << c.what << ": " << msg;
      EXPECT_NE(msg.find(c.expect), std::string::npos) << c.what << ": " << msg;
    }
  }
}

// The same pieces put together correctly open: the cases fail for the reason they name.
TEST(SafetensorsMalformed, TheValidNeighboursOpen) {
  testing::TempDir dir;
  const std::string f32x2 = R"("dtype":"F32","shape":[2],"data_offsets":)";
  const std::string path = dir.file("ok.safetensors");
  // Tensors listed out of offset order, an empty tensor inside another's range, metadata.
  testing::write_binary(path, assemble("{" + tensor("v", f32x2 + "[8,16]") + "," +
                                           tensor("w", f32x2 + "[0,8]") + "," +
                                           R"("e":{"dtype":"I8","shape":[0],"data_offsets":[4,4]},)"
                                           R"("__metadata__":{"format":"pt"}})",
                                       std::string(16, '\x01')));
  const auto f = SafetensorsFile::open(path);
  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->tensors()[0].name, "w");  // sorted by offset
  EXPECT_EQ(f->tensors()[1].name, "e");
  EXPECT_EQ(f->tensors()[2].name, "v");
  EXPECT_EQ(f->metadata().at("format"), "pt");
  // An empty header and nothing else is a valid (empty) file.
  testing::write_binary(path, assemble("{}      "));
  EXPECT_TRUE(SafetensorsFile::open(path)->tensors().empty());
}

TEST(SafetensorsMalformed, MissingFileIsAnInfraError) {
  testing::TempDir dir;
  try {
    SafetensorsFile::open(dir.file("none.safetensors"));
    FAIL();
  } catch (const InfraError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("none.safetensors")), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos);
  }
}

}  // namespace
}  // namespace mpitune
