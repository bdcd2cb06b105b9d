#!/usr/bin/env node
// Runs the TypeScript sources directly: swc compiles each file on first load.
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || require('node:path').join(__dirname, '../../../tsconfig.json');
require('@swc-node/register');
require('../src/main.ts');
