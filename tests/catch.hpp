// The one include of Catch2 (Debian's catch2 2.13) for every test file.
#pragma once
#include <catch2/catch.hpp>
