# Address + undefined behaviour sanitizers (CTSQS_SANITIZE=ON, preset "asan").
function(ctsqs_sanitize target)
  if(CTSQS_SANITIZE)
    target_compile_options(${target} PUBLIC -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()
