; trayassist's per-user Windows installer (NSIS 3). Built by installers/windows/build.py:
;   makensis -DVERSION=x -DSTAGE=<program dir> -DOUTFILE=<exe> -DCOMPRESSOR=lzma trayassist.nsi
;
; Installs the program into %LOCALAPPDATA%\trayassist\program (no admin rights), beside the
; user's own files there (config.toml, models, state: platformdirs' folders on Windows).
; Options (also for the silent /S install):
;   /NOAUTOSTART   do not start trayassist at login (the HKCU Run value)
; Uninstaller options:
;   /PURGE         also remove the user's config, models and state (asked interactively)

; 64-bit, like the embedded CPython it carries (and Wine runs it without wine32).
Target amd64-unicode
SetCompressor /SOLID ${COMPRESSOR}
RequestExecutionLevel user
ManifestDPIAware true

!include "MUI2.nsh"
!include "FileFunc.nsh"

!define APP "trayassist"
!define RUNKEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\trayassist"

Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\${APP}\program"
ShowInstDetails nevershow
ShowUninstDetails nevershow
!define MUI_ICON "${STAGE}\trayassist.ico"
!define MUI_UNICON "${STAGE}\trayassist.ico"
!define MUI_FINISHPAGE_RUN "$INSTDIR\python\pythonw.exe"
!define MUI_FINISHPAGE_RUN_PARAMETERS "-m trayassist daemon"
!define MUI_FINISHPAGE_RUN_TEXT "Start trayassist now"

!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function StopRunningDaemon
  ; A running daemon keeps python311.dll open: ask it to quit (waits, bounded), as
  ; `trayassist quit` does. Nothing running is fine.
  IfFileExists "$INSTDIR\python\python.exe" 0 +2
    nsExec::Exec '"$INSTDIR\python\python.exe" -m trayassist quit'
FunctionEnd

Section "trayassist (required)" SecMain
  SectionIn RO
  Call StopRunningDaemon
  RMDir /r "$INSTDIR\python"
  RMDir /r "$INSTDIR\app"
  SetOutPath "$INSTDIR"
  File /r "${STAGE}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\python\pythonw.exe" \
    "-m trayassist daemon" "$INSTDIR\trayassist.ico" 0
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "trayassist"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\trayassist.ico"
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" "$0"
SectionEnd

Section "Start at login" SecAutostart
  ; The same value `trayassist autostart on` writes (trayassist/autostart/windows.py).
  WriteRegStr HKCU "${RUNKEY}" "${APP}" '"$INSTDIR\python\pythonw.exe" -m trayassist daemon'
SectionEnd

Function .onInit
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/NOAUTOSTART" $R1
  IfErrors +2 0
    SectionSetFlags ${SecAutostart} 0
FunctionEnd

Section "Uninstall"
  Call un.StopRunningDaemon
  DeleteRegValue HKCU "${RUNKEY}" "${APP}"
  Delete "$SMPROGRAMS\${APP}.lnk"
  DeleteRegKey HKCU "${UNINSTKEY}"
  RMDir /r "$INSTDIR\python"
  RMDir /r "$INSTDIR\app"
  Delete "$INSTDIR\trayassist.cmd"
  Delete "$INSTDIR\trayassist.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  ; The user's files beside the program: caches and runtime files always go; config,
  ; models and state only when asked.
  RMDir /r "$LOCALAPPDATA\${APP}\Cache"
  RMDir /r "$LOCALAPPDATA\${APP}\run"
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  IfErrors 0 purge
  IfSilent done
  MessageBox MB_YESNO|MB_DEFBUTTON2 \
    "Also remove your trayassist settings and downloaded models?" IDYES purge IDNO done
  purge:
    RMDir /r "$LOCALAPPDATA\${APP}"
  done:
  RMDir "$LOCALAPPDATA\${APP}"
SectionEnd

Function un.StopRunningDaemon
  IfFileExists "$INSTDIR\python\python.exe" 0 +2
    nsExec::Exec '"$INSTDIR\python\python.exe" -m trayassist quit'
FunctionEnd
