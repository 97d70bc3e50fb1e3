// The bad-input corpus: files and command lines a careless user or an attacker would feed
// zfvis-cli (ONNX and Keras files that are cut, bit-flipped or absurd; images that are tiny on disk
// but huge when decoded, damaged, truncated or not images; .npy files with negative, huge or
// truncated shapes; overflowing, negative, out-of-range, missing and unknown arguments; export and
// output paths that point at user folders, directories or nowhere). Generated in C++ at test time
// from fixed seeds and the committed fixtures: no Python, no network, the same cases every run.
// tests/corpus/test_bad_input_corpus.cpp runs every case and checks the error contract.
#pragma once

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace zfvis::test {

/// One zfvis-cli run and what it may do.
struct CorpusCase {
  std::string name;                // "image/png-30000x30000-grey", unique
  std::vector<std::string> args;   // zfvis-cli arguments; "{dir}" stands for the case's folder
  std::set<int> codes;             // allowed exit codes (0 only where the input is valid after all)
  std::vector<std::string> words;  // must appear in the error line when the exit code is not 0
  /// Prepares the case's (empty) folder before the run: files the run must not touch.
  std::function<void(const std::filesystem::path&)> setup;
};

/// Writes the corpus's input files into `inputs` (created) and returns every case.
std::vector<CorpusCase> makeBadInputCorpus(const std::filesystem::path& inputs);

}  // namespace zfvis::test
