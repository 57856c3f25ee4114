// PLACEHOLDER: replaced by the gateway work.
#include "runtime/cli.hpp"

namespace orderflow::runtime {
int run_cli(int, char**) { return 0; }
}  // namespace orderflow::runtime
