// The driver that runs a fuzz target in the ordinary (GCC, ASan+UBSan) test build, where
// libFuzzer is not available: it runs every input of the target's corpus, then a fixed number
// of inputs derived from them by a small seeded mutator (bit flips, interesting bytes,
// insertions, deletions, duplications, splices, dictionary tokens). The same seed gives the
// same inputs, so a failure reproduces. Coverage-guided search is hack/fuzz/run.sh's job
// (clang, libFuzzer); this is the regression check the test command can afford.
//   TARGET [-runs=N] [-seed=S] [-dict=FILE] PATH...   (PATH: a file or a directory of inputs)
// On a crash (sanitizer report, abort, uncaught exception) the input is written to
// ./crash-<target>-<n> and its path printed.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Bytes = std::string;

const Bytes* g_current = nullptr;  // the input being run, for the crash handler
const char* g_name = "fuzz";

void DumpCurrent() {
  if (g_current == nullptr) return;
  char path[256];
  std::snprintf(path, sizeof(path), "./crash-%s-%d", g_name, static_cast<int>(getpid()));
  if (FILE* f = std::fopen(path, "wb")) {
    std::fwrite(g_current->data(), 1, g_current->size(), f);
    std::fclose(f);
    std::fprintf(stderr, "fuzz replay: the failing input (%zu bytes) is in %s\n", g_current->size(),
                 path);
  }
  g_current = nullptr;
}

void OnAbort(int sig) {
  DumpCurrent();
  signal(sig, SIG_DFL);
  raise(sig);
}

Bytes ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// libFuzzer's dictionary format: one token per line, `name="value"` or `"value"`, with \\, \"
// and \xNN escapes; '#' starts a comment.
std::vector<Bytes> ReadDict(const std::string& path) {
  std::vector<Bytes> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t q = line.find('"');
    if (line.empty() || line[0] == '#' || q == std::string::npos) continue;
    size_t end = line.rfind('"');
    if (end <= q) continue;
    Bytes tok;
    for (size_t i = q + 1; i < end; ++i) {
      if (line[i] == '\\' && i + 1 < end) {
        char c = line[++i];
        if (c == 'x' && i + 2 < end) {
          tok.push_back(static_cast<char>(std::stoi(line.substr(i + 1, 2), nullptr, 16)));
          i += 2;
        } else {
          tok.push_back(c);
        }
      } else {
        tok.push_back(line[i]);
      }
    }
    if (!tok.empty()) out.push_back(tok);
  }
  return out;
}

class Mutator {
 public:
  Mutator(uint64_t seed, const std::vector<Bytes>* corpus, std::vector<Bytes> dict)
      : rng_(seed), corpus_(corpus), dict_(std::move(dict)) {}

  Bytes Next() {
    Bytes b = (*corpus_)[Pick(corpus_->size())];
    int n = 1 + static_cast<int>(Pick(4));
    for (int i = 0; i < n; ++i) Mutate(&b);
    return b;
  }

 private:
  size_t Pick(size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }

  void Mutate(Bytes* b) {
    static const unsigned char kInteresting[] = {0,   1,   0x7f, 0x80, 0xff, '"', '\\',
                                                 '{', '}', '[',  ']',  ',',  ':', '<',
                                                 '>', '&', '\n', '-',  '.',  'e'};
    switch (Pick(b->empty() ? 2 : 8)) {
      case 0:  // insert a byte
        b->insert(b->begin() + static_cast<long>(Pick(b->size() + 1)),
                  static_cast<char>(kInteresting[Pick(sizeof(kInteresting))]));
        break;
      case 1:  // insert a dictionary token (or a random byte without a dictionary)
        if (!dict_.empty()) {
          b->insert(Pick(b->size() + 1), dict_[Pick(dict_.size())]);
        } else {
          b->insert(b->begin() + static_cast<long>(Pick(b->size() + 1)),
                    static_cast<char>(Pick(256)));
        }
        break;
      case 2:  // flip a bit
        (*b)[Pick(b->size())] ^= static_cast<char>(1u << Pick(8));
        break;
      case 3:  // replace a byte with an interesting one
        (*b)[Pick(b->size())] = static_cast<char>(kInteresting[Pick(sizeof(kInteresting))]);
        break;
      case 4: {  // delete a range
        size_t at = Pick(b->size());
        b->erase(at, 1 + Pick(std::min<size_t>(16, b->size() - at)));
        break;
      }
      case 5: {  // duplicate a range
        size_t at = Pick(b->size());
        Bytes part = b->substr(at, 1 + Pick(std::min<size_t>(64, b->size() - at)));
        b->insert(Pick(b->size() + 1), part);
        break;
      }
      case 6: {  // splice: our head, another input's tail
        const Bytes& other = (*corpus_)[Pick(corpus_->size())];
        *b = b->substr(0, Pick(b->size() + 1)) + other.substr(Pick(other.size() + 1));
        break;
      }
      default:  // truncate
        b->resize(Pick(b->size() + 1));
        break;
    }
  }

  std::mt19937_64 rng_;
  const std::vector<Bytes>* corpus_;
  std::vector<Bytes> dict_;
};

int Run(const Bytes& input) {
  g_current = &input;
  // A copy of exactly the input's size: ASan reports a read past the end.
  std::vector<uint8_t> copy(input.begin(), input.end());
  int rc = LLVMFuzzerTestOneInput(copy.empty() ? nullptr : copy.data(), copy.size());
  g_current = nullptr;
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  static const std::string name = std::filesystem::path(argv[0]).filename().string();
  g_name = name.c_str();
  long runs = 0;
  uint64_t seed = 1;
  std::string dict_path;
  std::vector<std::filesystem::path> paths;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("-runs=", 0) == 0) {
      runs = std::stol(a.substr(6));
    } else if (a.rfind("-seed=", 0) == 0) {
      seed = std::stoull(a.substr(6));
    } else if (a.rfind("-dict=", 0) == 0) {
      dict_path = a.substr(6);
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "fuzz replay: unknown flag " << a << "\n";
      return 2;
    } else {
      paths.emplace_back(a);
    }
  }
  signal(SIGABRT, OnAbort);
  std::set_terminate([] {
    DumpCurrent();
    std::abort();
  });

  std::vector<std::filesystem::path> files;
  for (const auto& p : paths) {
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else if (std::filesystem::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::cerr << "fuzz replay: no such input " << p << "\n";
      return 2;
    }
  }
  std::sort(files.begin(), files.end());  // directory order is not stable; the seed must be
  std::vector<Bytes> corpus;
  corpus.reserve(files.size());
  for (const auto& f : files) corpus.push_back(ReadFile(f));
  if (corpus.empty()) corpus.emplace_back();

  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < corpus.size(); ++i) Run(corpus[i]);
  Mutator m(seed, &corpus, dict_path.empty() ? std::vector<Bytes>{} : ReadDict(dict_path));
  for (long i = 0; i < runs; ++i) Run(m.Next());
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::printf(
      "fuzz replay %s: %zu corpus inputs and %ld mutated inputs (seed %llu) in %lld ms, no "
      "failure\n",
      g_name, files.size(), runs, static_cast<unsigned long long>(seed),
      static_cast<long long>(ms.count()));
  return 0;
}
