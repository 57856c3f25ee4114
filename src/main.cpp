// orderflow: the whole service in one binary. Everything lives in the runtime library.
#include "runtime/cli.hpp"

int main(int argc, char** argv) { return orderflow::runtime::run_cli(argc, argv); }
