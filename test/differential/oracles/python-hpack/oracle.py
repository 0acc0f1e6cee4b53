# Oracle for the HPACK decoder: Python's hpack (Debian python3-hpack), one
# decoder per JSON line, the line's header blocks decoded in order (a failed
# block ends the line's sequence, as it ends an HTTP/2 connection).
#   {"blocks":["82","8286"]} -> [{"headers":[["3a6d6574686f64","474554"]]},{"error":"InvalidTableIndex: ..."}]
# Names and values are answered as hex of their bytes (raw=True).
import json
import sys

from hpack import Decoder
from hpack.exceptions import HPACKError

for line in sys.stdin:
    question = json.loads(line)
    decoder = Decoder()  # SETTINGS_HEADER_TABLE_SIZE 4096, header lists up to 65536 bytes (RFC 7541 entry sizes)
    answers = []
    for block in question["blocks"]:
        try:
            headers = decoder.decode(bytes.fromhex(block), raw=True)
        except HPACKError as err:
            answers.append({"error": "%s: %s" % (type(err).__name__, err)})
            break
        answers.append({"headers": [[name.hex(), value.hex()] for name, value in headers]})
    sys.stdout.write(json.dumps(answers) + "\n")
    sys.stdout.flush()
