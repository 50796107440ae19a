package cli

// Regenerate completions/, man/ and docs/reference/ from the command tree.
//go:generate go run ../../tools/gen -dir ../..
