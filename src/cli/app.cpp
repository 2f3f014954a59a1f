#include "mlpack/cli/app.hpp"

#include <iostream>

#include <openssl/crypto.h>

#include "common.hpp"
#include "mlpack/archive/archive.hpp"
#include "mlpack/net/http.hpp"
#include "mlpack/util/error.hpp"
#include "mlpack/util/log.hpp"
#include "mlpack/version.hpp"

namespace mlpack::cli {

int run(int argc, char** argv) {
  CLI::App app{"mlpack: pack, sign, version and ship trained models as content-addressed artifacts",
               "mlpack"};
  app.footer(
      "\nExample:\n"
      "  mlpack init && mlpack pack examples/sklearn-iris -t iris:v1 && mlpack inspect iris:v1\n\n"
      "Run 'mlpack COMMAND --help' for one command. Exit codes: 0 ok, 1 runtime error, 2 usage,\n"
      "3 integrity, 4 not found, 5 conflict, 6 diff gate.");
  app.require_subcommand(1);
  // Global options work after the command too (`mlpack push -q`), as users expect.
  app.fallthrough();
  // The libraries a bug report needs, after the version itself.
  app.set_version_flag("--version", std::string("mlpack ") + kToolVersion + "\n" +
                                        net::curl_version_text() + "\n" +
                                        archive::libarchive_version_text() + "\n" +
                                        OpenSSL_version(OPENSSL_VERSION));

  Context ctx;
  app.add_option("-C", ctx.global.dir,
                 "Use the .mlpack repository in DIR (other paths stay relative to here)")
      ->type_name("DIR");
  app.add_option("--progress", ctx.global.progress,
                 "Transfer progress on stderr: auto (a bar on a terminal), plain or none")
      ->check(CLI::IsMember({"auto", "plain", "none"}))
      ->type_name("STYLE");
  app.add_flag_callback(
      "-q,--quiet", [] { log::set_level(log::Level::kQuiet); }, "Only errors on stderr");
  app.add_flag_callback(
      "-v,--verbose", [] { log::set_level(log::Level::kVerbose); }, "More detail on stderr");

  register_init(app, ctx);
  register_pack(app, ctx);
  register_tag(app, ctx);
  register_list(app, ctx);
  register_log(app, ctx);
  register_inspect(app, ctx);
  register_path(app, ctx);
  register_export(app, ctx);
  register_import(app, ctx);
  register_unpack(app, ctx);
  register_gc(app, ctx);
  register_fsck(app, ctx);
  register_key(app, ctx);
  register_verify(app, ctx);
  register_diff(app, ctx);
  register_promote(app, ctx);
  register_rollback(app, ctx);
  register_history(app, ctx);
  register_remote(app, ctx);
  register_push(app, ctx);
  register_pull(app, ctx);
  register_ls_remote(app, ctx);
  register_scan(app, ctx);
  register_complete(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    if (message.empty()) message = e.get_name();
    // CLI11 reports `mlpack bogus` as "A subcommand is required": name the word instead.
    if (const auto rest = app.remaining(); app.get_subcommands().empty() && !rest.empty()) {
      const std::string& first = rest.front();
      message = first.starts_with("-") ? "unknown option '" + first + "'"
                                       : "unknown command '" + first + "'";
    }
    throw UsageError(message + " (see mlpack --help)");
  }
  return 0;
}

}  // namespace mlpack::cli
