// PLACEHOLDER: replaced by the store conformance suite.
#include <gtest/gtest.h>
