#!/usr/bin/env node
require('../dist/bundle/boot.cjs').boot(require('node:path').join(__dirname, '../dist/bundle'));
