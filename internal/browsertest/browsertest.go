// Package browsertest starts a real headless Chromium for end-to-end tests,
// driven with chromedp.
//
// Usage:
//
//	browser := browsertest.New(t)           // skips (or fails, see below) without Chromium
//	tab := browsertest.Tab(t, browser)      // a tab sharing the browser's cookies
//	other := browsertest.IsolatedTab(t, browser) // a tab in a fresh profile, like a second person
//	chromedp.Do(tab, chromedp.Navigate(url), ...)
//	browsertest.Screenshot(t, tab, "lab-en-390-light.png")
//
// When no browser is installed the test is skipped with a message saying
// how to enable it — unless LEARNWS_BROWSER_TESTS=1 (set by .ci/run), in
// which case it fails: there, browser tests are mandatory.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// RequireEnv names the variable that makes browser tests mandatory.
const RequireEnv = "LEARNWS_BROWSER_TESTS"

// SkipMessage is what a test says when it skips for lack of a browser.
const SkipMessage = "install Debian's chromium (apt-get install chromium fonts-noto-cjk) or set " + RequireEnv + "=1 to require browser tests"

// Path returns the Chromium (or Chrome) executable, or "". The variable
// LEARNWS_CHROMIUM names another one (a path that does not exist means
// "no browser", which is how the skip itself is tested).
func Path() string {
	if p := os.Getenv("LEARNWS_CHROMIUM"); p != "" {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
		return ""
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Require skips t when there is no browser, or fails it when browser tests
// are required. It returns the browser's path.
func Require(t testing.TB) string {
	t.Helper()
	p := Path()
	if p == "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("no Chromium found, and %s=1 requires browser tests: apt-get install chromium fonts-noto-cjk", RequireEnv)
		}
		t.Skip(SkipMessage)
	}
	return p
}

// New starts a headless Chromium with a fresh profile and returns its
// context; the browser stops when the test ends. Use Tab or IsolatedTab for
// pages.
func New(t testing.TB) context.Context {
	t.Helper()
	path := Require(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		bcancel()
		acancel()
	})
	// Start the browser now, with a context that has no deadline: the
	// browser lives as long as the context of this first call.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}

// Tab opens a new tab in the browser's default profile.
func Tab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// IsolatedTab opens a tab in a new browser context (its own cookies and
// storage), as if another person opened it on another machine.
func IsolatedTab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// Bounded runs f with a timeout derived from ctx (never on the browser's
// own first context, which would stop the browser).
func Bounded(t testing.TB, ctx context.Context, d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ColorScheme emulates prefers-color-scheme ("light" or "dark").
func ColorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// Viewport sets the page size in CSS pixels; widths under 600 are emulated
// as a phone (mobile, touch).
func Viewport(w, h int64) chromedp.Action[chromedp.Void] {
	if w < 600 {
		return chromedp.EmulateViewport(w, h, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(w, h)
}

// Screenshot saves a full-page PNG of the tab to dir/name and returns the
// path. dir is $LEARNWS_SCREENSHOTS if set, else the test's temp dir.
func Screenshot(t testing.TB, tab context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("LEARNWS_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	c, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
