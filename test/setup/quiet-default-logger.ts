// The default logger writes warnings and errors to stderr. The suite provokes thousands of them on
// purpose (failures nobody awaits, crashes, deadlocks), so its engines log nothing unless a test
// gives them a logger; the tests of the default logger itself run it in a child process without
// this setting (test/engine/default-logger.process.test.ts).
process.env['MEZAN_LOG_LEVEL'] ??= 'silent';
