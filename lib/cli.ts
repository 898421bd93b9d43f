#!/usr/bin/env node
/**
 * The `clustershazbot` command (package.json "bin": dist/cli.js): operators' signed requests
 * without writing code. The commands live in `cli/`, one file each; see docs/cli.md.
 */
import { main } from './cli/main.js';

process.exitCode = await main(process.argv.slice(2));
