'use strict';
// Loads the native addon (see addon.js for where it is found).
module.exports = require(require('./addon.js').addonFile());
