// Prints what Go computes for the agent sketch's key mapping, for crosscheck.mjs to compare
// with kennel's port. Not part of the build or of CI; needs a Go toolchain:
//
//	GO111MODULE=off go run main.go | node crosscheck.mjs
//
// Written for kennel from the agent's documented formulas (pkg/util/quantile/config.go):
// key(v) = RoundToEven(Log(v)/Log1p(2·eps)) + bias, f64(k) = Pow(γ, k-bias).
package main

import (
	"bufio"
	"fmt"
	"math"
	"math/rand"
	"os"
)

const bias = 1338

var (
	gamma = 1 + 2.0/128
	lnG   = math.Log1p(2.0 / 128)
)

func key(v float64) int {
	if v < 0 {
		return -key(-v)
	}
	if v == 0 || v < math.Pow(gamma, 1-bias) {
		return 0
	}
	i := int(math.RoundToEven(math.Log(v)/lnG)) + bias
	if i > 32766 {
		return 32767
	}
	return i
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	// f64 for every finite positive key.
	for k := 1; k <= 32766; k++ {
		fmt.Fprintf(w, "F %d %x\n", k, math.Float64bits(math.Pow(gamma, float64(k-bias))))
	}
	// Keys within 8 ulps either side of every rounding boundary.
	for j := -1340; j <= 31430; j++ {
		b := math.Exp((float64(j) + 0.5) * lnG)
		lo, hi := b, b
		for s := 0; s < 8; s++ {
			lo = math.Nextafter(lo, 0)
			hi = math.Nextafter(hi, math.Inf(1))
		}
		for v := lo; v <= hi; v = math.Nextafter(v, math.Inf(1)) {
			fmt.Fprintf(w, "K %x %d\n", math.Float64bits(v), key(v))
		}
	}
	// Keys of random values of every magnitude.
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 1000000; i++ {
		v := math.Exp(r.Float64()*1400 - 700)
		if i%2 == 1 {
			v = r.Float64() * 1000
		}
		fmt.Fprintf(w, "K %x %d\n", math.Float64bits(v), key(v))
	}
}
