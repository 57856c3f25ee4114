#pragma once

namespace orderflow::runtime {

// The command line: `orderflow serve`, `orderflow --version`, `orderflow --help`.
int run_cli(int argc, char** argv);

}  // namespace orderflow::runtime
