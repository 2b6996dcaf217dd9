// "Did you mean ...?" for misspelt keys and choices in scenario and sweep files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace exoderm {

// Levenshtein distance between two words.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate a typo most likely meant (within about a third of the word's length, at
// least 2 edits), or empty when none is close.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

} // namespace exoderm
