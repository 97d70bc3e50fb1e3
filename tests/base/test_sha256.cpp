// SHA-256 against the FIPS 180-2 / NIST CSRC known answers.
#include <gtest/gtest.h>

#include <string>

#include "core/base/sha256.h"
#include "tests/zoo/test_data.h"

namespace zfvis {
namespace {

TEST(Sha256, EmptyMessage) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, NistAbc) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, Nist448BitMessage) {
  EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, Nist896BitMessage) {
  EXPECT_EQ(
      sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmn"
                "opqklmnopqrlmnopqrsmnopqrstnopqrstu"),
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, NistMillionAsFedInUnevenPieces) {
  Sha256 h;
  const std::string chunk(997, 'a');
  size_t fed = 0;
  while (fed + chunk.size() <= 1000000) {
    h.update(chunk);
    fed += chunk.size();
  }
  h.update(std::string(1000000 - fed, 'a'));
  EXPECT_EQ(h.hexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, ResetStartsAnEmptyMessage) {
  Sha256 h;
  h.update("something else");
  h.reset();
  h.update("abc");
  EXPECT_EQ(h.hexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // hexDigest() also resets.
  EXPECT_EQ(h.hexDigest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, FileMatchesIndependentDigest) {
  test::ScratchDir dir("sha");
  const auto file = dir.path() / "payload.bin";
  test::spit(file, test::payloadBytes(test::kPayloadSize));
  EXPECT_EQ(sha256File(file), test::kPayloadSha256);
}

TEST(Sha256, MissingFileNamesThePath) {
  try {
    sha256File("/nonexistent/zfvis/file.onnx");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/zfvis/file.onnx"), std::string::npos);
  }
}

TEST(Sha256, RecognisesHexDigests) {
  EXPECT_TRUE(isSha256Hex("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  EXPECT_FALSE(isSha256Hex("e3b0"));
  EXPECT_FALSE(isSha256Hex(std::string(63, 'a') + "g"));
}

}  // namespace
}  // namespace zfvis
