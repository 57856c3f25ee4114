#include "runtime/modules.hpp"

#include <dlfcn.h>

#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace orderflow::runtime {

namespace {

std::vector<std::filesystem::path> module_dirs() {
  std::vector<std::filesystem::path> dirs;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(exe.parent_path());
    dirs.push_back(exe.parent_path() / ".." / "lib" / "orderflow");
  }
#ifdef ORDERFLOW_BUILD_TREE
  dirs.emplace_back(ORDERFLOW_BUILD_TREE);
#endif
  return dirs;
}

}  // namespace

std::optional<std::filesystem::path> find_module(std::string_view file) {
  for (const auto& dir : module_dirs()) {
    std::error_code ec;
    const auto path = dir / file;
    if (std::filesystem::is_regular_file(path, ec)) return path.lexically_normal();
  }
  return std::nullopt;
}

std::unique_ptr<ports::ImageRecognizer> open_vision_module(
    const modules::vision::Request& request) {
  const auto path = find_module(modules::vision::kFileName);
  if (!path)
    throw std::runtime_error(std::string(modules::vision::kFileName) +
                             " is not installed (beside the binary or in ../lib/orderflow)");
  // Never closed (see modules.hpp); a second open of the same file returns the same handle.
  void* handle = dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) throw std::runtime_error(std::string("cannot load ") + dlerror());
  void* entry = dlsym(handle, modules::vision::kEntryPoint);
  if (entry == nullptr)
    throw std::runtime_error(path->string() + " has no " + modules::vision::kEntryPoint);
  modules::vision::Result result;
  // dlsym's void* to a function pointer: POSIX guarantees the conversion.
  reinterpret_cast<modules::vision::EntryPoint>(entry)(request, result);  // NOLINT
  if (!result.recognizer) throw std::runtime_error(result.error);
  return std::move(result.recognizer);
}

}  // namespace orderflow::runtime
