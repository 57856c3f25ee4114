// image_eval: the product-image check on a labelled set (eval_set.tsv), side by side with the
// seed's rule, plus time per image against the bare OpenCV forward pass in the same run.
//
//   image_eval [--set FILE] [--images DIR] [--extra DIR] [--models DIR] [--wordnet DIR]
//              [--repeat N] [--verbose] [--confident P] [--match-mass P] [--mismatch-mass P]
//              [--top-k K] [--burst N]
//
// Images named "skimage/..." or "matplotlib/..." come from --extra (filled by
// fetch_extra_images.sh); when that folder lacks them, their lines are skipped and counted.
//
// For every line (image, description, expected match|mismatch) it prints what our matcher and
// the seed's rule say, then accuracy, match recall and mismatch recall per method. Our matcher
// runs with three view policies: the centre crop only, the padded whole-image view added for
// elongated images (the default), and both views always. The seed's rule: the top-1 label
// against the description, case-insensitive substring either way ("r" matches "Burger"); as
// our labels list synonyms, any synonym of the top-1 class may match, which favours the seed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/imaging/decode_image.hpp"
#include "adapters/opencv/imagenet_preprocess.hpp"
#include "adapters/opencv/opencv_recognizer.hpp"
#include "adapters/wordnet/wordnet_files.hpp"
#include "domain/wordnet_matcher.hpp"
#include "functions/image_header.hpp"

namespace {

using namespace orderflow;
using Clock = std::chrono::steady_clock;
// The upload check's decode limit, as the service passes it to the recognizer.
constexpr std::int64_t kMaxPixels = functions::ImageLimits{}.max_pixels;

struct Item {
  std::string image;
  std::string description;
  std::string expected;
};

struct Args {
  std::string set = ORDERFLOW_BENCH_DIR "/eval_set.tsv";
  std::string images = "/usr/share/darknet/data";
  std::string extra = ORDERFLOW_BENCH_IMAGES_DIR;
  std::string models = ORDERFLOW_SOURCE_DIR "/../shared/models";
  std::string wordnet = std::string(adapters::kDefaultWordNetDir);
  int repeat = 5;
  int burst = 32;
  bool verbose = false;
  domain::MatchPolicy policy;  // --confident, --match-mass, --mismatch-mass, --top-k
};

std::vector<Item> read_set(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Item> items;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Item item;
    if (!std::getline(fields, item.image, '\t') || !std::getline(fields, item.description, '\t') ||
        !std::getline(fields, item.expected, '\t') ||
        (item.expected != "match" && item.expected != "mismatch"))
      throw std::runtime_error("bad line in " + path + ": " + line);
    items.push_back(item);
  }
  return items;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

bool is_extra(const std::string& spec) {
  return spec.rfind("skimage/", 0) == 0 || spec.rfind("matplotlib/", 0) == 0;
}

std::string path_of(const std::string& spec, const Args& args) {
  const std::string file = split(spec, '|')[0];
  return (is_extra(spec) ? args.extra : args.images) + "/" + file;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

// "dog.jpg|crop=1,2,3,4|flip" -> the image as an upload would carry it: the file itself when
// unmodified, else the modified image as a JPEG.
std::string make_image(const std::string& spec, const Args& args) {
  const auto ops = split(spec, '|');
  const std::string path = path_of(spec, args);
  if (ops.size() == 1) return read_bytes(path);
  cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
  if (img.empty()) throw std::runtime_error("cannot read " + path);
  for (std::size_t i = 1; i < ops.size(); ++i) {
    const std::string& op = ops[i];
    if (op.rfind("crop=", 0) == 0) {
      const auto v = split(op.substr(5), ',');
      cv::Rect r(std::stoi(v[0]), std::stoi(v[1]), std::stoi(v[2]), std::stoi(v[3]));
      img = img(r & cv::Rect(0, 0, img.cols, img.rows)).clone();
    } else if (op == "flip") {
      cv::flip(img, img, 1);
    } else if (op == "rot90") {
      cv::rotate(img, img, cv::ROTATE_90_CLOCKWISE);
    } else if (op == "rot180") {
      cv::rotate(img, img, cv::ROTATE_180);
    } else if (op == "rot270") {
      cv::rotate(img, img, cv::ROTATE_90_COUNTERCLOCKWISE);
    } else if (op.rfind("scale=", 0) == 0) {
      const double f = std::stod(op.substr(6));
      cv::resize(img, img, cv::Size(), f, f, f < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    } else if (op == "gray") {
      cv::cvtColor(img, img, cv::COLOR_BGR2GRAY);
      cv::cvtColor(img, img, cv::COLOR_GRAY2BGR);
    } else {
      throw std::runtime_error("unknown image operation: " + op);
    }
  }
  std::vector<unsigned char> jpeg;
  cv::imencode(".jpg", img, jpeg, {cv::IMWRITE_JPEG_QUALITY, 92});
  return std::string(jpeg.begin(), jpeg.end());
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(' ');
  const auto b = s.find_last_not_of(' ');
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// The seed: top-1 label vs description by substring, either way.
std::string seed_rule(const std::string& description, const ports::ImageClass& top1) {
  const std::string d = lower(trim(description));
  for (const auto& synonym : split(top1.label, ',')) {
    const std::string l = lower(trim(synonym));
    if (!d.empty() && (l.find(d) != std::string::npos || d.find(l) != std::string::npos))
      return "match";
  }
  return "mismatch";
}

struct Tally {
  int total = 0, correct = 0, match_expected = 0, match_found = 0, mismatch_expected = 0,
      mismatch_found = 0, false_warnings = 0, uncertain = 0;
  void add(const std::string& expected, const std::string& got) {
    ++total;
    if (got == expected) ++correct;
    if (got == "uncertain") ++uncertain;
    if (expected == "match") {
      ++match_expected;
      if (got == "match") ++match_found;
      if (got == "mismatch") ++false_warnings;
    } else {
      ++mismatch_expected;
      if (got == "mismatch") ++mismatch_found;
    }
  }
  void print(const char* name) const {
    std::printf("%-34s %6.1f%% %12.1f%% %14.1f%% %15d %10d\n", name, 100.0 * correct / total,
                100.0 * match_found / match_expected, 100.0 * mismatch_found / mismatch_expected,
                false_warnings, uncertain);
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--set") args.set = value();
    else if (a == "--images") args.images = value();
    else if (a == "--extra") args.extra = value();
    else if (a == "--models") args.models = value();
    else if (a == "--wordnet") args.wordnet = value();
    else if (a == "--repeat") args.repeat = std::max(1, std::stoi(value()));
    else if (a == "--burst") args.burst = std::max(1, std::stoi(value()));
    else if (a == "--verbose") args.verbose = true;
    else if (a == "--confident") args.policy.confident = std::stod(value());
    else if (a == "--match-mass") args.policy.match_mass = std::stod(value());
    else if (a == "--mismatch-mass") args.policy.mismatch_mass = std::stod(value());
    else if (a == "--top-k") args.policy.top_k = std::stoi(value());
    else {
      std::fprintf(stderr, "usage: image_eval [--set F] [--images D] [--extra D] [--models D] [--wordnet D] [--repeat N] [--verbose] [--confident P] [--match-mass P] [--mismatch-mass P] [--top-k K] [--burst N]\n");
      return 2;
    }
  }
  std::vector<Item> items;
  int skipped = 0;
  for (auto& item : read_set(args.set)) {
    if (std::ifstream(path_of(item.image, args)).good()) {
      items.push_back(std::move(item));
    } else {
      ++skipped;
    }
  }

  // One worker each, so the timings are of one request on an otherwise idle machine.
  struct Policy {
    const char* name;
    double min_aspect;
  };
  const Policy policies[] = {{"ours, centre crop only", 0.0},
                             {"ours, + padded view if >= 1.5:1", 1.5},
                             {"ours, + padded view always", 1.0}};
  std::vector<std::unique_ptr<adapters::OpenCvRecognizer>> recognizers;
  for (const auto& p : policies)
    recognizers.push_back(std::make_unique<adapters::OpenCvRecognizer>(
        adapters::OpenCvRecognizerOptions{args.models, 1, 4, p.min_aspect, kMaxPixels}));
  const auto& classes = recognizers[0]->classes();

  auto t0 = Clock::now();
  auto wordnet = adapters::load_wordnet(args.wordnet);
  const double wordnet_ms = ms_since(t0);
  std::vector<std::string> wnids;
  for (const auto& c : classes) wnids.push_back(c.wnid);
  t0 = Clock::now();
  const domain::DescriptionMatcher matcher(std::move(wordnet), wnids, args.policy);
  const double matcher_ms = ms_since(t0);

  cv::dnn::Net bare = cv::dnn::readNetFromONNX(args.models + "/" +
                                               std::string(adapters::OpenCvRecognizer::kModelFile));

  std::map<std::string, std::string> images;  // spec -> JPEG bytes
  for (const auto& item : items)
    if (!images.count(item.image)) images[item.image] = make_image(item.image, args);

  // Recognition per image and policy, timed; the bare forward pass on the same image's blob.
  std::map<std::string, std::vector<ports::Recognition>> results;
  std::vector<double> pipeline_ms[3], forward_ms;
  for (const auto& [spec, bytes] : images) {
    for (std::size_t p = 0; p < recognizers.size(); ++p) {
      std::vector<double> times;
      ports::Recognition r;
      for (int k = 0; k < args.repeat; ++k) {
        t0 = Clock::now();
        r = recognizers[p]->recognize(bytes, 10);
        times.push_back(ms_since(t0));
      }
      pipeline_ms[p].push_back(median(times));
      results[spec].push_back(r);
    }
    const cv::Mat decoded = adapters::imaging::decode_bgr(bytes, kMaxPixels);
    const cv::Mat blob = adapters::imagenet::to_blob({adapters::imagenet::center_crop(decoded)});
    std::vector<double> times;
    for (int k = 0; k < args.repeat; ++k) {
      t0 = Clock::now();
      bare.setInput(blob);
      const cv::Mat out = bare.forward();
      times.push_back(ms_since(t0));
    }
    forward_ms.push_back(median(times));
  }

  Tally tallies[3], seed;
  std::vector<double> match_us;
  if (args.verbose)
    std::printf("%-40s %-20s %-8s | %-9s %-9s %-9s | %-8s | detected (default) | top-3 (default)\n",
                "image", "description", "expected", "crop", "default", "always", "seed");
  for (const auto& item : items) {
    const auto& rs = results[item.image];
    std::string got[3];
    domain::Verdict chosen;
    for (std::size_t p = 0; p < 3; ++p) {
      std::vector<domain::ClassProbability> top;
      for (const auto& s : rs[p].top) top.push_back({s.index, s.probability});
      t0 = Clock::now();
      const auto verdict = matcher.judge(item.description, top);
      match_us.push_back(ms_since(t0) * 1000.0);
      got[p] = std::string(domain::to_string(verdict.status));
      if (p == 1) chosen = verdict;
      tallies[p].add(item.expected, got[p]);
    }
    const auto& top1 = classes[static_cast<std::size_t>(rs[0].top.front().index)];
    const std::string seed_says = seed_rule(item.description, top1);
    seed.add(item.expected, seed_says);
    if (args.verbose) {
      std::string tops;
      for (std::size_t k = 0; k < 3 && k < rs[1].top.size(); ++k)
        tops += classes[static_cast<std::size_t>(rs[1].top[k].index)].name + " " +
                std::to_string(rs[1].top[k].probability).substr(0, 4) + ", ";
      std::printf("%-40s %-20s %-8s | %-9s %-9s %-9s | %-8s | %s %.2f | %s\n", item.image.c_str(),
                  item.description.c_str(), item.expected.c_str(), got[0].c_str(), got[1].c_str(),
                  got[2].c_str(), seed_says.c_str(), chosen.detected.c_str(),
                  chosen.detected_probability, tops.c_str());
    }
  }

  int match_items = 0;
  for (const auto& item : items) match_items += item.expected == "match";
  std::printf("\n%zu items (%d match, %zu mismatch) over %zu images", items.size(), match_items,
              items.size() - static_cast<std::size_t>(match_items), images.size());
  if (skipped > 0)
    std::printf("; %d items skipped: their images are missing (run fetch_extra_images.sh %s)", skipped,
                args.extra.c_str());
  std::printf("\n\n");
  std::printf("%-34s %7s %13s %15s %15s %10s\n", "method", "accuracy", "match recall",
              "mismatch recall", "false warnings", "uncertain");
  for (std::size_t p = 0; p < 3; ++p) tallies[p].print(policies[p].name);
  seed.print("seed: top-1 substring rule");

  std::printf("\ntime per image (median of %d runs each, 1 worker, mean over images):\n", args.repeat);
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / v.size();
  };
  std::printf("  bare OpenCV forward pass (setInput+forward)  %7.2f ms\n", mean(forward_ms));
  for (std::size_t p = 0; p < 3; ++p)
    std::printf("  %-44s %7.2f ms  (decode + views + forward + softmax)\n", policies[p].name,
                mean(pipeline_ms[p]));
  std::printf("  description matching (read + judge)          %7.1f us (median)\n", median(match_us));

  // A burst of simultaneous uploads against the default pool (a worker per core, a queue of
  // 4 per worker): how many are served, how many are turned away as busy, and how fast.
  {
    adapters::OpenCvRecognizer pool(adapters::OpenCvRecognizerOptions{.model_dir = args.models, .max_pixels = kMaxPixels});
    const std::string photo = images.begin()->second;
    std::atomic<int> ok{0}, busy{0};
    std::vector<std::thread> threads;
    t0 = Clock::now();
    for (int i = 0; i < args.burst; ++i)
      threads.emplace_back([&] {
        const auto r = pool.recognize(photo, 10);
        (r.status == ports::Recognition::Status::busy ? busy : ok)++;
      });
    for (auto& t : threads) t.join();
    const double ms = ms_since(t0);
    std::printf("  burst of %d simultaneous requests, %d workers: %d served, %d busy, %.0f ms (%.1f images/s)\n",
                args.burst, pool.worker_count(), ok.load(), busy.load(), ms, ok.load() * 1000.0 / ms);
  }
  std::printf("  start-up: WordNet load %.0f ms, matcher index %.0f ms\n", wordnet_ms, matcher_ms);
  return 0;
}
