#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <string>
#include <vector>

#include "mlpack/crypto/blake2b.hpp"
#include "mlpack/crypto/ed25519.hpp"
#include "mlpack/crypto/minisign.hpp"
#include "mlpack/util/base64.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/hex.hpp"

using namespace mlpack;
using namespace mlpack::crypto;

namespace {

std::vector<std::uint8_t> unhex(std::string_view s) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> unhex_array(std::string_view s) {
  auto v = unhex(s);
  REQUIRE(v.size() == N);
  std::array<std::uint8_t, N> a{};
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

}  // namespace

TEST_CASE("Ed25519 matches the RFC 8032 section 7.1 test vectors") {
  struct Vector {
    const char* seed;
    const char* pk;
    const char* msg;
    const char* sig;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
       "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
       "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
      {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
       "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
       "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
       "984dc6594a7c15e9716ed28dc027beceea1ec40a"},
  };
  for (const auto& v : vectors) {
    INFO(v.seed);
    auto seed = unhex_array<32>(v.seed);
    auto msg = unhex(v.msg);
    CHECK(hex::encode(ed25519::public_from_seed(seed)) == v.pk);
    auto sig = ed25519::sign(seed, msg);
    CHECK(hex::encode(sig) == v.sig);
    CHECK(ed25519::verify(unhex_array<32>(v.pk), msg, sig));
    sig[0] ^= 1;
    CHECK_FALSE(ed25519::verify(unhex_array<32>(v.pk), msg, sig));
  }
}

TEST_CASE("BLAKE2b matches RFC 7693 and OpenSSL's BLAKE2b-512") {
  CHECK(hex::encode(blake2b(std::vector<std::uint8_t>{'a', 'b', 'c'})) ==
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de"
        "4533cc9518d38aa8dbf1925ab92386edd4009923");
  CHECK(hex::encode(blake2b(std::vector<std::uint8_t>{})) ==
        "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444"
        "934eb04b903a685b1448b755d56f701afe9be2ce");
  // Lengths around the 128-byte block boundary, where the final-block rule bites.
  for (std::size_t len : {1u, 127u, 128u, 129u, 255u, 256u, 257u, 1000u}) {
    std::vector<std::uint8_t> data(len);
    for (std::size_t i = 0; i < len; ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 3);
    std::array<std::uint8_t, 64> expected{};
    unsigned int out_len = 0;
    EVP_Digest(data.data(), data.size(), expected.data(), &out_len, EVP_blake2b512(), nullptr);
    INFO(len);
    CHECK(blake2b(data) == std::vector<std::uint8_t>(expected.begin(), expected.end()));
  }
  // BLAKE2b-256 is its own function, not a truncation.
  auto b256 = blake2b(std::vector<std::uint8_t>{'a', 'b', 'c'}, 32);
  CHECK(hex::encode(b256) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST_CASE("base64 round-trips and refuses non-canonical text") {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    std::vector<std::uint8_t> bytes(s.begin(), s.end());
    auto text = base64::encode(bytes);
    CHECK(base64::decode(text) == bytes);
  }
  CHECK(base64::encode(std::vector<std::uint8_t>{'f', 'o'}) == "Zm8=");
  CHECK_FALSE(base64::decode("Zm8"));
  CHECK_FALSE(base64::decode("Z=8="));
  CHECK_FALSE(base64::decode("Zm8*"));
}

TEST_CASE("minisign key ids print as minisign prints them") {
  minisign::KeyId id{0x8e, 0x96, 0x68, 0x99, 0x1e, 0xd1, 0x60, 0xb2};
  CHECK(minisign::key_id_hex(id) == "B260D11E9968968E");
  CHECK(minisign::parse_key_id("B260D11E9968968E") == id);
  CHECK(minisign::parse_key_id("b260d11e9968968e") == id);
  minisign::KeyId small{0x01, 0x02, 0, 0, 0, 0, 0, 0};
  CHECK(minisign::parse_key_id("201") == small);  // as minisign prints it, no leading zeros
  CHECK(minisign::key_id_hex(small) == "0000000000000201");
  CHECK_FALSE(minisign::parse_key_id("B260D11E9968968E0"));
  CHECK_FALSE(minisign::parse_key_id(""));
  CHECK_FALSE(minisign::parse_key_id("XYZ"));
}

TEST_CASE("minisign keys and signatures round-trip through their files") {
  auto key = minisign::SecretKey::generate();
  auto pub = minisign::PublicKey::parse(key.public_key().to_file(), "pub");
  CHECK(pub.id == key.id());
  auto reread = minisign::parse_secret_key(key.to_file(std::nullopt), "sk", [] {
    FAIL("an unencrypted key must not ask for a password");
    return std::string();
  });
  CHECK(reread.public_key().key == key.public_key().key);

  auto sig = minisign::sign(key, "manifest bytes", "timestamp:1\tartifact:iris:v1", "mlpack");
  auto parsed = minisign::Signature::parse(sig.to_file(), "sig");
  CHECK_NOTHROW(minisign::verify(pub, "manifest bytes", parsed));
  CHECK_THROWS_AS(minisign::verify(pub, "manifest bytez", parsed), IntegrityError);
  parsed.trusted_comment += "x";
  CHECK_THROWS_AS(minisign::verify(pub, "manifest bytes", parsed), IntegrityError);
  auto other = minisign::SecretKey::generate();
  CHECK_THROWS_AS(minisign::verify(other.public_key(), "manifest bytes", sig), IntegrityError);
  const std::string text = sig.to_file();
  CHECK_THROWS_AS(minisign::Signature::parse(text.substr(0, text.size() / 2), "sig"),
                  IntegrityError);
}

TEST_CASE("the secret key file never holds the seed in the clear when encrypted") {
  auto key = minisign::SecretKey::generate();
  const std::string file = key.to_file(std::string("correct horse"));
  CHECK(minisign::secret_key_is_encrypted(file, "sk"));
  CHECK(file.find(base64::encode(key.seed())) == std::string::npos);
  auto back = minisign::parse_secret_key(file, "sk", [] { return std::string("correct horse"); });
  CHECK(back.public_key().key == key.public_key().key);
  CHECK_THROWS_AS(minisign::parse_secret_key(file, "sk", [] { return std::string("wrong"); }),
                  UsageError);
}
