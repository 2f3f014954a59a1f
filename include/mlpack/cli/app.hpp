// The command line: CLI11 set-up, one file per command under src/cli/, and
// the human and JSON output formats. Commands call the library modules;
// they never touch the file layout or the network themselves.
#pragma once

namespace mlpack::cli {

// Parses argv and runs the command. Returns the exit code for success and
// for help output; failures are thrown as mlpack::Error for main() to report.
int run(int argc, char** argv);

}  // namespace mlpack::cli
