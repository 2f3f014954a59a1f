#include <catch2/catch.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <map>
#include <memory>

#include "mlpack/remote/gcs_auth.hpp"
#include "mlpack/util/base64.hpp"
#include "mlpack/util/error.hpp"
#include "temp_dir.hpp"

using namespace mlpack;

namespace {

struct KeyPair {
  std::string private_pem;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
};

KeyPair make_rsa_key() {
  KeyPair k;
  k.key.reset(EVP_RSA_gen(2048));
  REQUIRE(k.key);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  REQUIRE(PEM_write_bio_PKCS8PrivateKey(bio.get(), k.key.get(), nullptr, nullptr, 0, nullptr,
                                        nullptr) == 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  k.private_pem.assign(data, static_cast<std::size_t>(len));
  return k;
}

std::string decode_url(std::string text) {
  for (char& c : text) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (text.size() % 4) text += '=';
  auto bytes = base64::decode(text);
  REQUIRE(bytes);
  return std::string(bytes->begin(), bytes->end());
}

bool verify_rs256(EVP_PKEY* key, const std::string& data, const std::string& signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

std::string json_string(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a service account's JWT is RS256-signed with the claims Google checks") {
  KeyPair k = make_rsa_key();
  remote::ServiceAccount account{"mlpack-ci@project.iam.gserviceaccount.com", k.private_pem,
                                 "key-1", "https://oauth2.googleapis.com/token"};
  const std::string jwt = remote::make_jwt_assertion(
      account, "https://www.googleapis.com/auth/devstorage.read_write", 1'700'000'000);
  const std::size_t dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
  REQUIRE(dot1 != std::string::npos);
  REQUIRE(dot2 > dot1);
  CHECK(jwt.find_first_of("+/=") == std::string::npos);  // base64url, unpadded
  const std::string header = decode_url(jwt.substr(0, dot1));
  const std::string claims = decode_url(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  CHECK(header == R"({"alg":"RS256","typ":"JWT","kid":"key-1"})");
  CHECK(
      claims ==
      R"({"iss":"mlpack-ci@project.iam.gserviceaccount.com","scope":"https://www.googleapis.com/auth/devstorage.read_write","aud":"https://oauth2.googleapis.com/token","iat":1700000000,"exp":1700003600})");
  const std::string signature = decode_url(jwt.substr(dot2 + 1));
  CHECK(signature.size() == 256);
  CHECK(verify_rs256(k.key.get(), jwt.substr(0, dot2), signature));
  // Another key does not verify it: the signature is really over these bytes.
  KeyPair other = make_rsa_key();
  CHECK_FALSE(verify_rs256(other.key.get(), jwt.substr(0, dot2), signature));
  CHECK_FALSE(verify_rs256(k.key.get(), jwt.substr(0, dot2) + "x", signature));
}

TEST_CASE("key files are read as Google writes them, and refused clearly otherwise") {
  test::TestDir dir;
  KeyPair k = make_rsa_key();
  dir.write("sa.json",
            "{\n  \"type\": \"service_account\",\n  \"project_id\": \"p\",\n"
            "  \"private_key_id\": \"abc\",\n  \"private_key\": \"" +
                json_string(k.private_pem) +
                "\",\n  \"client_email\": \"x@p.iam.gserviceaccount.com\",\n"
                "  \"token_uri\": \"http:\\/\\/127.0.0.1:9\\/token\"\n}\n");
  auto a = remote::load_service_account((dir.path() / "sa.json").string());
  CHECK(a.client_email == "x@p.iam.gserviceaccount.com");
  CHECK(a.private_key == k.private_pem);
  CHECK(a.token_uri == "http://127.0.0.1:9/token");
  CHECK(a.private_key_id == "abc");

  dir.write("user.json", R"({"type": "authorized_user", "client_id": "c", "refresh_token": "r"})");
  CHECK_THROWS_AS(remote::load_service_account((dir.path() / "user.json").string()), UsageError);
  dir.write("bad.json", "not json {");
  CHECK_THROWS_AS(remote::load_service_account((dir.path() / "bad.json").string()), UsageError);
  CHECK_THROWS_AS(remote::load_service_account((dir.path() / "none.json").string()), UsageError);
  dir.write("nokey.json", R"({"type": "service_account", "client_email": "x@y"})");
  CHECK_THROWS_AS(remote::load_service_account((dir.path() / "nokey.json").string()), UsageError);

  // A key that is not RSA cannot sign.
  a.private_key =
      "-----BEGIN PRIVATE "
      "KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END "
      "PRIVATE KEY-----\n";
  CHECK_THROWS_AS(remote::make_jwt_assertion(a, "s", 0), UsageError);
}

TEST_CASE("GCS credentials follow the client libraries' order") {
  test::TestDir dir;
  std::map<std::string, std::string> vars{{"HOME", dir.path().string()}};
  remote::EnvLookup env = [&](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  remote::Remote r;
  r.name = "g";
  r.url = remote::parse_remote_url("gs://bucket/p");

  auto s = remote::resolve_gcs_settings(r, env);
  CHECK(s.endpoint == "https://storage.googleapis.com");
  CHECK(s.source.find("anonymous") != std::string::npos);

  vars["GCE_METADATA_HOST"] = "127.0.0.1:1";
  CHECK(remote::resolve_gcs_settings(r, env).source == "the metadata server 127.0.0.1:1");
  vars["GOOGLE_OAUTH_ACCESS_TOKEN"] = "ya29.token";
  CHECK(remote::resolve_gcs_settings(r, env).source == "the token in GOOGLE_OAUTH_ACCESS_TOKEN");
  vars["GOOGLE_APPLICATION_CREDENTIALS"] = (dir.path() / "missing.json").string();
  CHECK_THROWS_AS(remote::resolve_gcs_settings(r, env), UsageError);

  r.endpoint = "http://127.0.0.1:4443/";
  vars.erase("GOOGLE_APPLICATION_CREDENTIALS");
  s = remote::resolve_gcs_settings(r, env);
  CHECK(s.endpoint == "http://127.0.0.1:4443");
  CHECK(s.credentials);  // another endpoint keeps authentication on

  vars["STORAGE_EMULATOR_HOST"] = "127.0.0.1:9023";
  s = remote::resolve_gcs_settings(r, env);
  CHECK(s.endpoint == "http://127.0.0.1:9023");
  CHECK_FALSE(s.credentials);
}
