// The reference answers for the quantity and duration parsers: Kubernetes' own
// resource.ParseQuantity and Go's time.ParseDuration, built from the Kubernetes source tree that
// hack/kube/build.sh unpacks. Reads hex-encoded inputs, one per line; writes one TSV line each:
//   quantity:  HEX  error  |  HEX  skip (exponent of 5+ digits)
//              HEX  canonical  value-or-"overflow"  milli-or-"overflow"  exact-decimal
//   duration:  HEX  error            |  HEX  nanoseconds  String()
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// scaled is the quantity in units of 10^scale rounded up away from zero, or "overflow" when it
// leaves int64 (Kubernetes wraps there; Ferry saturates).
func scaled(q resource.Quantity, scale int32) string {
	d := q.AsDec()
	r := new(big.Rat).SetFrac(d.UnscaledBig(), big.NewInt(1))
	exp := -int64(d.Scale()) - int64(scale) // value = unscaled * 10^-decScale; in 10^scale units
	switch { // exponents of any size are valid input; keep the arithmetic small
	case d.UnscaledBig().Sign() == 0:
		return "0"
	case exp > 40:
		return "overflow"
	case exp < -1000: // |unscaled| < 10^1000 for inputs of up to 256 bytes: |value| < 1
		return fmt.Sprint(d.UnscaledBig().Sign())
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(abs(exp)), nil)
	if exp >= 0 {
		r.Mul(r, new(big.Rat).SetInt(p))
	} else {
		r.Quo(r, new(big.Rat).SetInt(p))
	}
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if new(big.Int).Mul(n, r.Denom()).Cmp(r.Num()) != 0 { // not whole: away from zero
		if r.Sign() > 0 {
			n.Add(n, big.NewInt(1))
		} else {
			n.Sub(n, big.NewInt(1))
		}
	}
	if !n.IsInt64() {
		return "overflow"
	}
	return n.String()
}

var hugeExponent = regexp.MustCompile(`[eE][-+]?[0-9]{5,}$`)

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		b, err := hex.DecodeString(in.Text())
		if err != nil {
			panic(err)
		}
		switch os.Args[1] {
		case "quantity":
			// Kubernetes takes minutes on exponents like 1E-2147483648 (it rounds through
			// 10^|exponent|): such inputs get no reference answer.
			if hugeExponent.Match(b) {
				fmt.Printf("%s\tskip\n", in.Text())
				continue
			}
			q, err := resource.ParseQuantity(string(b))
			if err != nil {
				fmt.Printf("%s\terror\n", in.Text())
				continue
			}
			// ParseQuantity may keep the input as its String(); a sum drops it, so a zero
			// plus q prints the canonical form.
			c := resource.Quantity{Format: q.Format}
			c.Add(q)
			fmt.Printf("%s\t%s\t%s\t%s\t%s\n", in.Text(), c.String(), scaled(q, 0), scaled(q, -3),
				q.AsDec().String())
		case "duration":
			d, err := time.ParseDuration(string(b))
			if err != nil {
				fmt.Printf("%s\terror\n", in.Text())
				continue
			}
			fmt.Printf("%s\t%d\t%s\n", in.Text(), int64(d), d.String())
		}
	}
	if err := in.Err(); err != nil {
		panic(err)
	}
}
