# cmake -DIN=FILE -DOUT=FILE.c -DNAME=symbol -P cmake/bin2c.cmake
# Writes FILE.c defining `const char NAME[]`: the bytes of FILE and a NUL, so
# a text file (the report's CSS) is compiled in and edited as itself.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" len)
set(body "")
set(at 0)
while(at LESS len) # 16 bytes a line
  string(SUBSTRING "${hex}" ${at} 32 line)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," line "${line}")
  string(APPEND body "    ${line}\n")
  math(EXPR at "${at} + 32")
endwhile()
get_filename_component(from "${IN}" NAME)
file(WRITE "${OUT}.tmp"
  "/* Generated from ${from} by cmake/bin2c.cmake: edit ${from}, not this. */\n"
  "const char ${NAME}[] = {\n${body}    0x00};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
