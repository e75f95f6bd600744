package detect_test

import (
	"fmt"

	"github.com/lockstress/lockstress/stress/detect"
)

func ExampleAppendRecord() {
	b := detect.AppendRecord(nil, detect.Record{Seq: 42, State: detect.Held, Owner: "build-7/w3", Nonce: 0x9f86d081884c7d65})
	fmt.Print(string(b))
	r, err := detect.ParseRecord(b)
	fmt.Println(r.Seq, r.State, r.Owner, err)
	b[30] = '9' // a torn write
	_, err = detect.ParseRecord(b)
	fmt.Println(err)
	// Output:
	// lockstress-ledger v1 seq=00000000000000000042 state=H owner=build-7/w3                       nonce=9f86d081884c7d65 crc=03dc4b71
	// 42 held build-7/w3 <nil>
	// torn ledger record: checksum cb8e6e91, record says 03dc4b71
}
