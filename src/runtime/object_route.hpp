#pragma once

#include "functions/api.hpp"
#include "ports/clock.hpp"

namespace orderflow::adapters {
class FileObjectStore;
}

namespace orderflow::runtime {

// GET /objects/{key+}?expires=&signature=: serves an object of the file store to whoever holds
// a presigned link for it (the file store's stand-in for S3's presigned GET). 403 for a
// tampered, foreign or expired link; 400 for keys that try to leave the store; Range requests
// answered with 206. `store` is null when objects live in S3 (its links point there).
functions::Response serve_object(adapters::FileObjectStore* store, const functions::Request& req);

}  // namespace orderflow::runtime
