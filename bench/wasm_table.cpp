// bench/wasm_table.cpp — the Wasm fingerprint over the whole corpus of builds
// (tests/fixtures/wasm/builds/MANIFEST.tsv): one Markdown row per module × compiler × level with the
// primitives found, the verdict, and whether the row was tuned on or held back. The honest measure
// of the fingerprint is the held-back rows: real miners come from builds we never see.
//   build/bench/cjcrawl_wasm_table [TUNED_COMPILER TUNED_LEVEL]   (default: clang O3)
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "blacklist/wasm.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> out;
  std::stringstream stream(line);
  for (std::string field; std::getline(stream, field, separator);) out.push_back(field);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string tuned_compiler = argc > 2 ? argv[1] : "clang";
  const std::string tuned_level = argc > 2 ? argv[2] : "O3";
  const std::string dir = std::string(CJCRAWL_SOURCE_DIR) + "/tests/fixtures/wasm/builds/";
  std::ifstream manifest(dir + "MANIFEST.tsv");
  if (!manifest) {
    std::cerr << "cannot read " << dir << "MANIFEST.tsv\n";
    return 1;
  }
  std::string line;
  std::getline(manifest, line);  // header
  struct Tally {
    int rows = 0;
    int right = 0;
  };
  std::map<std::string, Tally> tallies;  // "miner tuned", "benign held back", ...
  std::cout << "| module | kind | compiler | level | primitives | scratchpad loop | verdict | right | row |\n"
            << "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  while (std::getline(manifest, line)) {
    const auto fields = split(line, '\t');
    if (fields.size() < 5) continue;
    const std::string& file = fields[0];
    const bool miner = fields[1] == "miner";
    const auto profile = blacklist::wasm::read_module(read_file(dir + file));
    const auto print = blacklist::wasm::fingerprint(profile);
    std::string primitives;
    for (const auto& primitive : print.primitives) primitives += (primitives.empty() ? "" : " ") + primitive;
    const bool right = print.ok && print.miner == miner;
    const bool tuned = fields[3] == tuned_compiler && fields[4] == tuned_level;
    auto& tally = tallies[std::string(miner ? "miner" : "benign") + (tuned ? ", tuned" : ", held back")];
    ++tally.rows;
    tally.right += right ? 1 : 0;
    std::cout << "| " << file.substr(0, file.find('.')) << " | " << fields[1] << " | " << fields[3] << " | "
              << fields[4] << " | " << (primitives.empty() ? "—" : primitives) << " | "
              << (profile.scratchpad_loop ? "yes" : "—") << " | "
              << (!print.ok                ? "error: " + print.error
                  : print.cryptonight_core ? "miner (CryptoNight core)"
                  : print.miner            ? "miner (3 primitives)"
                                           : "not a miner")
              << " | " << (right ? "yes" : "**no**") << " | " << (tuned ? "tuned" : "held back") << " |\n";
  }
  std::cout << "\n| rows | right |\n| --- | --- |\n";
  for (const auto& [name, tally] : tallies)
    std::cout << "| " << name << " | " << tally.right << " of " << tally.rows << " |\n";
  return 0;
}
