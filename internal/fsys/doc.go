// Package fsys is the small set of file operations that the file-based lock
// strategies (soft and link) are written against, so that the same algorithm
// can run over the real filesystem (OS) or a simulated one in tests.
package fsys
