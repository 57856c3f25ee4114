# cmake -P npm_ci.cmake, run in web/: `npm ci` unless node_modules already matches
# package-lock.json (several build trees share this one web/ folder; a needless npm ci would
# pull node_modules from under another tree's running Vite build).
if(EXISTS node_modules/.package-lock.json AND NOT package-lock.json IS_NEWER_THAN node_modules/.package-lock.json)
  return()
endif()
execute_process(COMMAND npm ci --no-audit --no-fund --loglevel=error COMMAND_ERROR_IS_FATAL ANY)
