// cloudai: the command-line client of a CloudAI master (one-shot verbs and `cloudai
// shell`). All the work is in RunCli (cli/cli.h); this only connects it to the process.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  cloudai::cli::CliContext context;
  context.stdout_is_tty = isatty(STDOUT_FILENO) == 1;
  context.in = &std::cin;
  context.stdin_fd = STDIN_FILENO;
  const int code = cloudai::cli::RunCli(args, std::cout, std::cerr, context);
  std::cout.flush();
  return code;
}
