#!/usr/bin/env node
// The `discord-sim` bin. It is a committed file rather than dist/cli.js itself so that package
// managers can link it in the workspace before the first build (no "Failed to create bin").
import '../dist/cli.js';
