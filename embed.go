package learnws

import "embed"

// content holds the lessons (lessons/{lang}/NN-slug.md) and the web assets
// (web/templates, web/static, web/i18n). Everything the site serves is in the binary:
// a classroom without internet gets the same pages.
//
//go:embed lessons web
var content embed.FS
